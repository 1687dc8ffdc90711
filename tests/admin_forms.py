"""Posting admin forms back in tests, as a browser would."""

from typing import Any


def admin_form_data(response) -> dict[str, Any]:
    """What the browser posts back from an admin form page when nothing is edited, inlines included."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management_form = inline.formset.management_form
        data.update({management_form.add_prefix(name): value for name, value in management_form.initial.items()})
        forms.extend(inline.formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is not None:
                data[form.add_prefix(name)] = value
    return data
