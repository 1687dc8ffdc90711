"""The back-office dashboard: members per tier, points earned, burned and expired per week, voucher redemptions per
coupon and enrolments per store, for one program over the last N weeks.

A page of the admin site (its header, sidebar and login), routed in config/urls.py as "admin-dashboard" and linked
from the admin index (templates/admin/index.html). The figures come from loyalty/selectors/dashboard.py; the page
hands them to loyalty/static/loyalty/dashboard.js with json_script, and prints each chart's numbers as a table too.
"""

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from loyalty.models import Program
from loyalty.selectors.dashboard import (
    DEFAULT_PERIOD_WEEKS,
    PERIOD_WEEKS,
    CouponRedemptions,
    PointsWeek,
    StoreEnrolments,
    TierMembers,
    dashboard_enrolments_per_store,
    dashboard_headlines,
    dashboard_members_per_tier,
    dashboard_period,
    dashboard_points_per_week,
    dashboard_programs,
    dashboard_redemptions_per_coupon,
)

TEMPLATE = "admin/loyalty/dashboard.html"
# Store managers hold the first two (accounts), marketing the last two (coupons); "change" implies "view" in the
# admin. templates/admin/index.html shows the dashboard link on the same permissions.
DASHBOARD_PERMISSIONS = (
    "loyalty.view_loyaltyaccount",
    "loyalty.change_loyaltyaccount",
    "loyalty.view_coupondefinition",
    "loyalty.change_coupondefinition",
)


def dashboard_permitted(user: Any) -> bool:
    return any(user.has_perm(permission) for permission in DASHBOARD_PERMISSIONS)


class DashboardFilterForm(forms.Form):
    weeks = forms.TypedChoiceField(
        label="Period",
        choices=[(weeks, f"Last {weeks} weeks") for weeks in PERIOD_WEEKS],
        coerce=int,
        required=False,
        # Django returns empty_value as it is, of any type; django-stubs only allows a str or None.
        empty_value=DEFAULT_PERIOD_WEEKS,  # type: ignore[arg-type]
    )
    program = forms.ChoiceField(label="Program", required=False)

    def __init__(self, *args: Any, programs: list[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = {program.code: program for program in programs}
        program_field = cast(forms.ChoiceField, self.fields["program"])  # the field declared above
        program_field.choices = [(program.code, program.name) for program in programs]

    def clean_program(self) -> Program | None:
        code = self.cleaned_data["program"]
        if code:
            return self.programs[code]
        # The first program is the default one (dashboard_programs).
        return next(iter(self.programs.values()), None)


def _chart_data(
    members: list[TierMembers], weeks: list[PointsWeek], coupons: list[CouponRedemptions], stores: list[StoreEnrolments]
) -> dict[str, dict[str, list[Any]]]:
    """What dashboard.js draws, in the shape Chart.js takes: labels and one list of numbers per series."""
    return {
        "membersPerTier": {"labels": [row.tier for row in members], "members": [row.members for row in members]},
        "pointsPerWeek": {
            "labels": [row.week_start.isoformat() for row in weeks],
            "earned": [row.earned for row in weeks],
            "burned": [row.burned for row in weeks],
            "expired": [row.expired for row in weeks],
        },
        "redemptionsPerCoupon": {
            "labels": [row.coupon for row in coupons],
            "redemptions": [row.redemptions for row in coupons],
        },
        "enrolmentsPerStore": {
            "labels": [row.store for row in stores],
            "enrolments": [row.enrolments for row in stores],
        },
    }


def _dashboard(request: HttpRequest) -> HttpResponse:
    if not dashboard_permitted(request.user):
        raise PermissionDenied
    programs = dashboard_programs()
    # The defaults as data, so that the form shows the period in use when the link names none.
    form = DashboardFilterForm({"weeks": str(DEFAULT_PERIOD_WEEKS), **request.GET.dict()}, programs=programs)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "form": form,
        "show_program_filter": len(programs) > 1,
    }
    if not form.is_valid():
        # A hand-edited or stale link: say which filter is wrong, keep the page (and its filter form) usable.
        context["errors"] = [
            f"{form.fields[name].label}: {' '.join(map(str, messages))}" for name, messages in form.errors.items()
        ]
        return TemplateResponse(request, TEMPLATE, context, status=400)
    program = form.cleaned_data["program"]
    if program is None:
        return TemplateResponse(request, TEMPLATE, context)
    now = timezone.now()
    period = dashboard_period(weeks=form.cleaned_data["weeks"], now=now)
    members = dashboard_members_per_tier(program=program)
    weeks = dashboard_points_per_week(program=program, period=period)
    coupons = dashboard_redemptions_per_coupon(program=program, period=period)
    stores = dashboard_enrolments_per_store(program=program, period=period)
    context.update(
        program=program,
        period=period,
        last_day=period.end.date() - timedelta(days=1),
        headlines=dashboard_headlines(program=program, now=now),
        members_per_tier=members,
        points_per_week=weeks,
        redemptions_per_coupon=coupons,
        enrolments_per_store=stores,
        chart_data=_chart_data(members, weeks, coupons, stores),
    )
    return TemplateResponse(request, TEMPLATE, context)


# admin_view: staff only (others are sent to the admin login), never cached, CSRF-protected like every admin page.
dashboard_view = admin.site.admin_view(_dashboard)
