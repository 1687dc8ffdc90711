"""Coupon definitions: marketing's coupon configuration, created and edited through the coupon definition services.

The change page previews, while the form is edited, who could use the coupon (preview_view, answering
loyalty/static/loyalty/coupon_preview.js). It links to "Generate vouchers", which queues a VoucherBatch, and to
"Issue a voucher"; vouchers.py has both the vouchers and the batches.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.admin import TIMESTAMPS, ServiceModelAdmin
from core.exceptions import ApplicationError
from loyalty.admin.common import form_add_errors
from loyalty.models import CouponDefinition, Program, Tier
from loyalty.rules.coupons import FAILURE_DESCRIPTIONS, CouponTerms
from loyalty.selectors.coupons import coupon_eligibility_for_customer, coupon_eligibility_preview, coupon_terms
from loyalty.services.coupon_definitions import (
    UPDATABLE_FIELDS,
    coupon_definition_create,
    coupon_definition_update,
    coupon_definition_update_check,
)
from loyalty.services.voucher_batches import coupon_room_left, voucher_batch_create


class CouponDefinitionAdminForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(choices=CouponDefinition.Channel.choices, widget=forms.CheckboxSelectMultiple)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned_data = self.cleaned_data
        program = cleaned_data.get("program") or getattr(self.instance, "program", None)
        tiers = cleaned_data.get("eligible_tiers") or []
        if program is not None and any(tier.program_id != program.pk for tier in tiers):
            self.add_error("eligible_tiers", _("Choose tiers of the coupon's program."))
        elif self.instance.pk is not None and not self.errors:
            # The update service's refusals, shown on the form; it checks them again under the row lock.
            # (self.instance still holds the saved values here: the form copies its data onto it after clean.)
            try:
                coupon_definition_update_check(
                    definition=self.instance,
                    eligible_tiers=list(tiers),
                    **{name: cleaned_data[name] for name in UPDATABLE_FIELDS if name in cleaned_data},
                )
            except ValidationError as error:
                form_add_errors(self, error)
        return cleaned_data


COUPON_FORM_FIELDS = (
    "description",
    "product_id",
    "valid_from",
    "valid_until",
    "channels",
    "auto_apply",
    "min_basket",
    "limit_per_customer",
    "limit_total",
    "code_pattern",
    "is_active",
)
# The admin form's ceiling; the service allows more, for a command-line or API batch.
GENERATE_MAX = 100_000


class GenerateVouchersForm(forms.Form):
    count = forms.IntegerField(
        min_value=1,
        max_value=GENERATE_MAX,
        label="Number of vouchers",
        help_text=f"Anonymous codes, made by a background job; at most {GENERATE_MAX:,} at a time.",
    )

    def __init__(self, *args: Any, room: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.room = room
        if room is not None:
            self.fields["count"].widget.attrs["max"] = min(room, GENERATE_MAX)

    def clean_count(self) -> int:
        count = self.cleaned_data["count"]
        if self.room is not None and count > self.room:
            raise forms.ValidationError(
                _("The coupon's total limit allows %(room)s more vouchers.") % {"room": f"{self.room:,}"},
                code="limit_total",
            )
        return count


class CouponPreviewForm(forms.Form):
    """The coupon form's current values, as the preview endpoint reads them (its field names are the admin
    form's, the date-times split in two like the admin's widgets), and the customer to test."""

    program = forms.ModelChoiceField(queryset=Program.objects.all(), required=False)
    kind = forms.ChoiceField(choices=CouponDefinition.Kind.choices, required=False)
    value = forms.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    channels = forms.MultipleChoiceField(choices=CouponDefinition.Channel.choices, required=False)
    eligible_tiers = forms.ModelMultipleChoiceField(queryset=Tier.objects.all(), required=False)
    valid_from = forms.SplitDateTimeField(required=False)
    valid_until = forms.SplitDateTimeField(required=False)
    min_basket = forms.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    limit_per_customer = forms.IntegerField(required=False, min_value=1)
    limit_total = forms.IntegerField(required=False, min_value=1)
    is_active = forms.BooleanField(required=False)
    customer = forms.CharField(max_length=64, required=False, strip=True)
    basket = forms.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    channel = forms.ChoiceField(choices=CouponDefinition.Channel.choices, required=False)

    def __init__(self, *args: Any, program: Program | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_program = program

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        program = self.fixed_program or data.get("program")
        if program is None and "program" not in self.errors:
            self.add_error("program", _("Choose the coupon's program."))
        tiers = data.get("eligible_tiers") or []
        if program is not None and any(tier.program_id != program.pk for tier in tiers):
            self.add_error("eligible_tiers", _("Choose tiers of the coupon's program."))
        start, end = data.get("valid_from"), data.get("valid_until")
        if start is not None and end is not None and end <= start:
            self.add_error("valid_until", _("The end must come after the start."))
        if data.get("kind") == CouponDefinition.Kind.PERCENT and data.get("value") is not None:
            if not 0 < data["value"] <= 100:
                self.add_error("value", _("A percentage is more than 0 and at most 100."))
        data["program"] = program
        return data

    def terms(self) -> CouponTerms:
        """The coupon as the form now stands, unsaved, mapped to its terms as every saved coupon is."""
        data = self.cleaned_data
        definition = CouponDefinition(
            kind=data.get("kind") or CouponDefinition.Kind.PERCENT,
            value=data.get("value") or Decimal("0"),
            is_active=data.get("is_active", False),
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            channels=list(data.get("channels") or ()),
            min_basket=data.get("min_basket") or Decimal("0"),
            limit_per_customer=data.get("limit_per_customer"),
            limit_total=data.get("limit_total"),
        )
        return coupon_terms(definition, tier_codes=[tier.code for tier in data.get("eligible_tiers") or ()])


def _reasons(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": code, "text": FAILURE_DESCRIPTIONS.get(code, code)} for code in codes]


def _preview_payload(form: CouponPreviewForm, definition: CouponDefinition | None) -> dict[str, Any]:
    data, terms, now = form.cleaned_data, form.terms(), timezone.now()
    program = data["program"]
    preview = coupon_eligibility_preview(program=program, terms=terms, definition=definition, now=now)
    limit_total = data.get("limit_total")
    payload: dict[str, Any] = {
        "now": now.isoformat(),
        "open": not preview.closed_reasons,
        "closed_reasons": _reasons(preview.closed_reasons),
        "members": preview.members,
        "eligible": preview.eligible,
        "tiers": [
            {"code": tier.code, "name": tier.name, "members": tier.members, "eligible": tier.eligible}
            for tier in preview.tiers
        ],
        "vouchers": {
            "live": preview.live_vouchers,
            "redeemed": preview.redeemed_vouchers,
            "limit_total": limit_total,
            "left": None if limit_total is None else max(limit_total - preview.live_vouchers, 0),
        },
        "customer": None,
    }
    if data.get("customer"):
        result = coupon_eligibility_for_customer(
            program=program,
            terms=terms,
            definition=definition,
            identifier=data["customer"],
            channel=data.get("channel") or CouponDefinition.Channel.POS,
            basket=data.get("basket") or Decimal("0"),
            now=now,
        )
        if result is None:
            payload["customer"] = {"found": False, "message": _("No customer with this id or account number.")}
        else:
            payload["customer"] = {
                "found": True,
                "public_id": result.public_id,
                "tier": result.tier,
                "eligible": result.eligible,
                "reasons": _reasons(result.reasons),
                "discount": None if result.discount is None else str(result.discount),
            }
    return payload


@admin.register(CouponDefinition)
class CouponDefinitionAdmin(ServiceModelAdmin):
    """Marketing's coupon configuration: created by coupon_definition_create, edited by coupon_definition_update
    (program and code stay fixed; the form shows the service's refusals). The change page previews who is eligible
    while the form is edited (preview_view, loyalty/static/loyalty/coupon_preview.js) and offers "Generate
    vouchers", which queues a VoucherBatch."""

    form = CouponDefinitionAdminForm
    list_display = (
        "name",
        "code",
        "program",
        "kind",
        "value",
        "valid_from",
        "valid_until",
        "channel_list",
        "auto_apply",
        "is_active",
    )
    list_filter = ("is_active", "kind", "auto_apply", "program")
    list_select_related = ("program",)
    search_fields = ("code", "name")
    filter_horizontal = ("eligible_tiers",)
    readonly_fields = TIMESTAMPS
    fieldsets = (
        (None, {"fields": ("program", "code", "name", "description", "is_active")}),
        ("Discount", {"fields": ("kind", "value", "product_id")}),
        ("Where and when", {"fields": ("valid_from", "valid_until", "channels", "auto_apply")}),
        ("Who", {"fields": ("eligible_tiers", "min_basket")}),
        ("Limits", {"fields": ("limit_per_customer", "limit_total")}),
        ("Codes", {"fields": ("code_pattern",)}),
        ("History", {"fields": TIMESTAMPS, "classes": ("collapse",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: CouponDefinition | None = None) -> tuple[str, ...]:
        return TIMESTAMPS if obj is None else ("program", "code", *TIMESTAMPS)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "eligible_tiers":
            # A tier's name shows its program's code.
            kwargs["queryset"] = Tier.objects.select_related("program").order_by("program", "rank")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="channels")
    def channel_list(self, definition: CouponDefinition) -> str:
        return ", ".join(definition.channels)

    def save_model(self, request: HttpRequest, obj: CouponDefinition, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        fields = {name: data[name] for name in COUPON_FORM_FIELDS}
        tiers = list(data["eligible_tiers"])
        if change:
            coupon_definition_update(
                definition=obj,
                eligible_tiers=tiers,
                name=data["name"],
                kind=data["kind"],
                value=data["value"],
                **fields,
            )
            return
        definition = coupon_definition_create(
            program=data["program"],
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            value=data["value"],
            eligible_tiers=tiers,
            **fields,
        )
        # The admin logs the addition and redirects using `obj`: make it the row the service created.
        obj.pk = definition.pk
        obj.created_at = definition.created_at
        obj.updated_at = definition.updated_at
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        # Both services set the eligible tiers themselves; the form's save_m2m would write them a second time.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # Extra pages ---------------------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="loyalty_coupondefinition_preview_new",
            ),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="loyalty_coupondefinition_preview",
            ),
            path(
                "<path:object_id>/generate-vouchers/",
                self.admin_site.admin_view(self.generate_vouchers_view),
                name="loyalty_coupondefinition_generate_vouchers",
            ),
        ]
        return [*extra, *super().get_urls()]

    def has_generate_vouchers_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("loyalty.add_voucherbatch")

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: CouponDefinition | None = None,
    ) -> HttpResponse:
        if obj is None:
            context["preview_url"] = reverse("admin:loyalty_coupondefinition_preview_new")
        else:
            context["preview_url"] = reverse("admin:loyalty_coupondefinition_preview", args=(obj.pk,))
            if self.has_generate_vouchers_permission(request):
                context["generate_vouchers_url"] = reverse(
                    "admin:loyalty_coupondefinition_generate_vouchers", args=(obj.pk,)
                )
            if request.user.has_perm("loyalty.add_voucher") and obj.is_active:
                context["issue_voucher_url"] = reverse("admin:loyalty_voucher_issue") + f"?definition={obj.pk}"
        context["preview_channels"] = CouponDefinition.Channel.choices
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> JsonResponse:
        """Who could use the coupon as the form now stands (GET, the form's fields), and whether one customer
        could in a given purchase. Reads only. 400 with a message naming the field for values it cannot read."""
        definition = None
        if object_id is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
        else:
            definition = self.get_object(request, unquote(object_id))
            if definition is None:
                raise Http404
            if not self.has_view_or_change_permission(request, definition):
                raise PermissionDenied
        form = CouponPreviewForm(request.GET, program=definition.program if definition else None)
        if not form.is_valid():
            fields = {name: [str(message) for message in messages_] for name, messages_ in form.errors.items()}
            message = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in fields.items())
            return JsonResponse({"message": message, "fields": fields}, status=400)
        return JsonResponse(_preview_payload(form, definition))

    def generate_vouchers_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for a number of codes and queue a VoucherBatch (voucher_batch_create); its page shows the progress."""
        if not self.has_generate_vouchers_permission(request):
            raise PermissionDenied
        definition = self.get_object(request, unquote(object_id))
        if definition is None:
            raise Http404
        room = coupon_room_left(definition)
        form = GenerateVouchersForm(request.POST if request.method == "POST" else None, room=room)
        if form.is_valid():
            try:
                # admin_view only lets signed-in staff in: request.user is a User.
                user = request.user if request.user.is_authenticated else None
                batch = voucher_batch_create(definition=definition, count=form.cleaned_data["count"], user=user)
            except ApplicationError as error:
                form.add_error("count", error.message)
            else:
                self.message_user(
                    request, f"{batch.requested_count:,} vouchers of {definition.name} are being generated."
                )
                return HttpResponseRedirect(reverse("admin:loyalty_voucherbatch_change", args=(batch.pk,)))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": definition,
            "title": "Generate vouchers",
            "form": form,
            "room": room,
            "generate_max": GENERATE_MAX,
            "batches": definition.batches.order_by("-pk")[:10],
        }
        return TemplateResponse(request, "admin/loyalty/coupondefinition/generate_vouchers.html", context)
