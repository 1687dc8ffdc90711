"""The points liability report for finance (loyalty/selectors/liability.py): outstanding points and their value at
the program's burn value, by month of issue and of expiry, with the breakage history predicts; as a page with a
chart, and as CSV (the same rows `manage.py points_liability --format csv` prints for month-end).

A page of the admin site, routed in config/urls.py as "admin-points-liability"; readable with the
`loyalty.view_pointsliability` permission (the Marketing and Finance roles hold it).
"""

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from loyalty.models import Program
from loyalty.selectors.liability import (
    BREAKAGE_FORMULA,
    BREAKAGE_WINDOW_DAYS,
    PointsLiability,
    liability_programs,
    points_liability,
)

TEMPLATE = "admin/loyalty/points_liability.html"
PERMISSION = "loyalty.view_pointsliability"
CSV_HEADER = (
    "section",
    "month",
    "spendable_points",
    "pending_points",
    "reserved_points",
    "points",
    "value",
    "currency",
)


def liability_permitted(user: Any) -> bool:
    return bool(user.has_perm(PERMISSION))


class LiabilityFilterForm(forms.Form):
    as_of = forms.DateField(
        label="As of (end of day, UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    program = forms.ChoiceField(label="Program", required=False)

    def __init__(self, *args: Any, programs: list[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = {program.code: program for program in programs}
        program_field = cast(forms.ChoiceField, self.fields["program"])
        program_field.choices = [(program.code, program.name) for program in programs]

    def clean_as_of(self) -> date:
        as_of = self.cleaned_data["as_of"] or timezone.now().date()
        if as_of > timezone.now().date():
            raise forms.ValidationError("The report cannot look into the future.")
        return as_of

    def clean_program(self) -> Program | None:
        code = self.cleaned_data["program"]
        return self.programs[code] if code else next(iter(self.programs.values()), None)


def liability_csv_rows(report: PointsLiability) -> Iterator[tuple[Any, ...]]:
    """The report as flat rows (CSV_HEADER): each table's months, then the totals, the expected breakage and the
    liability net of it. Money to the cent, in the program's currency."""
    currency = report.program.currency
    for section, rows in (("issued", report.by_issue_month), ("expiring", report.by_expiry_month)):
        for row in rows:
            yield (section, row.label, row.spendable, row.pending, 0, row.points, report.value_of(row.points), currency)
    yield ("total", "", report.spendable, report.pending, report.reserved, report.points, report.value, currency)
    breakage = report.expected_breakage_points
    if breakage is not None:
        yield ("expected_breakage", "", "", "", "", breakage, report.value_of(breakage), currency)
    yield ("net_of_breakage", "", "", "", "", report.net_points, report.value_of(report.net_points), currency)


def breakage_percent(report: PointsLiability) -> str:
    """The breakage rate as a percentage with one decimal ("12.5"), or "" without history."""
    rate = report.breakage.rate if report.breakage else None
    return "" if rate is None else str((rate * 100).quantize(Decimal("0.1")))


def _csv_response(report: PointsLiability) -> StreamingHttpResponse:
    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    lines = (writer.writerow(row) for row in (CSV_HEADER, *liability_csv_rows(report)))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = f"points-liability-{report.program.code}-{report.as_of.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _chart_data(report: PointsLiability) -> dict[str, list[Any]]:
    rows = report.by_expiry_month
    return {
        "labels": [row.label for row in rows],
        "spendable": [row.spendable for row in rows],
        "pending": [row.pending for row in rows],
    }


def _points_liability(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    if not liability_permitted(request.user):
        raise PermissionDenied
    programs = liability_programs()
    form = LiabilityFilterForm(request.GET, programs=programs)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Points liability",
        "form": form,
        "show_program_filter": len(programs) > 1,
        "breakage_formula": BREAKAGE_FORMULA,
        "breakage_window_days": BREAKAGE_WINDOW_DAYS,
    }
    if not form.is_valid():
        context["errors"] = [
            f"{form.fields[name].label}: {' '.join(map(str, messages))}" for name, messages in form.errors.items()
        ]
        return TemplateResponse(request, TEMPLATE, context, status=400)
    program = form.cleaned_data["program"]
    if program is None:
        return TemplateResponse(request, TEMPLATE, context)
    report = points_liability(program=program, as_of=form.cleaned_data["as_of"])
    if request.GET.get("format") == "csv":
        return _csv_response(report)
    query = request.GET.copy()
    query["format"] = "csv"
    query["as_of"] = report.as_of.isoformat()
    query["program"] = program.code
    context.update(
        report=report,
        program=program,
        csv_query=query.urlencode(),
        issue_rows=[(row, report.value_of(row.points)) for row in report.by_issue_month],
        expiry_rows=[(row, report.value_of(row.points)) for row in report.by_expiry_month],
        breakage_value=(
            None if report.expected_breakage_points is None else report.value_of(report.expected_breakage_points)
        ),
        net_value=report.value_of(report.net_points),
        breakage_percent=breakage_percent(report),
        chart_data=_chart_data(report),
    )
    return TemplateResponse(request, TEMPLATE, context)


# admin_view: staff only (others are sent to the admin login), never cached, like every admin page.
points_liability_view = admin.site.admin_view(_points_liability)
