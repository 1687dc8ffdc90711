"""Query-string filters of the loyalty API's lists, as django-filter FilterSets.

A view validates its FilterSet before anything else (`filterset_validated`), so a bad value is a 400 in the core
error shape naming the parameter, as an input serializer's would be: `kind: "gift" is not a valid choice.` Choices
are worded as DRF's ChoiceField words them, so a filter answers what the serializer field it replaced answered; and
as for a serializer reading a query string, a parameter given empty (`status=`) filters nothing. drf-spectacular's
django-filter extension documents every filter in the OpenAPI schema from the view's `filterset_class`.
"""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django_filters.fields import ChoiceField, IsoDateTimeField
from django_filters.widgets import BaseCSVWidget
from rest_framework import serializers

from loyalty.models import CouponDefinition, PointsEntry, Voucher
from loyalty.selectors.coupons import coupon_channel_condition

INVALID_CHOICE = serializers.ChoiceField.default_error_messages["invalid_choice"]


def _invalid_choice(value: str) -> ValidationError:
    # The value goes in params, so that a "%" in it is never read as a placeholder.
    return ValidationError(INVALID_CHOICE.format(input="%(value)s"), code="invalid_choice", params={"value": value})


class ApiChoiceField(ChoiceField):
    def validate(self, value: Any) -> None:
        if value and not self.valid_value(value):
            raise _invalid_choice(value)
        super().validate(value)


class ApiIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(UTC):  # a moment without an offset is UTC, whatever zone a request activated
            moment = super().to_python(value)
        # The database compares in UTC, where a moment at the edge of datetime's range (year 9999 behind UTC)
        # does not fit.
        try:
            return moment.astimezone(UTC) if moment is not None else None
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class RepeatedOrCommaSeparatedWidget(BaseCSVWidget, forms.Select):
    """Several values as `kind=earn,burn` or `kind=earn&kind=burn` (a plain CSV widget would keep the last)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        if isinstance(data, MultiValueDict):
            values = data.getlist(name)
        else:
            values = [data[name]] if name in data else []
        return [part for value in values for part in value.split(",") if part]


class ApiChoiceFilter(django_filters.ChoiceFilter):
    field_class = ApiChoiceField


class ApiChoiceInFilter(django_filters.BaseInFilter, ApiChoiceFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", RepeatedOrCommaSeparatedWidget)
        super().__init__(*args, **kwargs)


class ApiIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = ApiIsoDateTimeField


def filterset_validated(
    filterset_class: type[django_filters.FilterSet],
    query_params: QueryDict,
    *,
    serializer: serializers.Serializer | None = None,
) -> django_filters.FilterSet:
    """The FilterSet bound to the query string. `serializer`, bound to the same query string, validates the list's
    other parameters (a limit): its errors join the filters' in one 400. Raises a DRF ValidationError naming each
    bad parameter, the filters' first."""
    filterset = filterset_class(data=query_params)
    errors: dict[str, list[str]] = {}
    if not filterset.is_valid():
        filter_errors = filterset.form.errors.get_json_data()
        errors = {name: [error["message"] for error in filter_errors[name]] for name in filter_errors}
    if serializer is not None and not serializer.is_valid():
        errors.update(serializer.errors)
    if errors:
        raise serializers.ValidationError(errors)
    return filterset


class PointsEntryFilterSet(django_filters.FilterSet):
    kind = ApiChoiceInFilter(
        choices=PointsEntry.Kind.choices,
        help_text="One or several ledger kinds, comma-separated (kind=earn,burn) or repeated.",
    )
    created_after = ApiIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Entries written at or after this moment (ISO 8601; without an offset: UTC).",
    )
    created_before = ApiIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Entries written before this moment (ISO 8601; without an offset: UTC).",
    )

    class Meta:
        model = PointsEntry
        fields = ("kind", "created_after", "created_before")


class CustomerVoucherFilterSet(django_filters.FilterSet):
    status = ApiChoiceFilter(choices=Voucher.Status.choices)
    channel = ApiChoiceFilter(
        choices=CouponDefinition.Channel.choices,
        method="filter_channel",
        help_text="Vouchers of coupons offered on this channel.",
    )

    class Meta:
        model = Voucher
        fields = ("status", "channel")

    def filter_channel(self, queryset: QuerySet[Voucher], name: str, value: str) -> QuerySet[Voucher]:
        return queryset.filter(coupon_channel_condition(value, prefix="definition__"))
