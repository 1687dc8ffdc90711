"""Helpers the loyalty admin modules share: service errors shown on a form, and tier quantities as text."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from loyalty.models import Program


def form_add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field where the form has it, above the form otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, field_errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, field_errors)


def quantity_text(program: Program, value: int | Decimal) -> str:
    """A qualifying value or threshold as the program counts them: "1,200 points" or "350.00 EUR"."""
    if program.tier_qualification == Program.TierQualification.POINTS:
        return f"{value:,.0f} points"
    return f"{value:,.2f} {program.currency}"
