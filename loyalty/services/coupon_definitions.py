"""Coupon definitions, marketing's configuration of a coupon: creating one and editing it within what its vouchers
already promised (program and code fixed, the discount fixed once redeemed, the total limit not below the live
vouchers, the tiers that give it as a benefit kept eligible)."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from loyalty.lock_objects import coupon_definition_qs_select_for_update
from loyalty.models import CouponDefinition, Program, Tier, Voucher
from loyalty.selectors.coupons import vouchers_live_count


@transaction.atomic
def coupon_definition_create(
    *,
    program: Program,
    code: str,
    name: str,
    kind: str,
    value: Decimal = Decimal("0"),
    eligible_tiers: Sequence[Tier] = (),
    **fields: Any,
) -> CouponDefinition:
    """Create a coupon definition; other model fields (channels, valid_from, limits, ...) pass through `fields`.
    Raises ValidationError for values the model's constraints refuse and for tiers of another program."""
    if any(tier.program_id != program.pk for tier in eligible_tiers):
        raise ValidationError({"eligible_tiers": _("Choose tiers of the coupon's program.")})
    definition = CouponDefinition(program=program, code=code, name=name, kind=kind, value=value, **fields)
    definition.full_clean()
    definition.save()
    definition.eligible_tiers.set(eligible_tiers)
    return definition


# What an edit may change. Program and code are fixed once created: vouchers, tills and webhooks name a coupon by
# them. The eligible tiers are passed separately (a many-to-many relation).
UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "description",
        "kind",
        "value",
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
    }
)
FIXED_FIELDS = ("program", "code")
# Once a voucher was redeemed, its receipt and the campaign's figures say what the coupon gave: the discount stays.
DISCOUNT_FIELDS = ("kind", "value", "product_id")


def coupon_definition_update_check(
    *, definition: CouponDefinition, eligible_tiers: Sequence[Tier] | None = None, **fields: Any
) -> None:
    """Raise ValidationError (a message per field) for an edit coupon_definition_update refuses; writes nothing.

    The refusals: program and code are fixed; kind, value and free item are fixed once a voucher was redeemed;
    limit_total may not fall below the live vouchers (issued, claimed, redeemed); eligible tiers must be of the
    coupon's program and may not leave out a tier that gives the coupon as a tier benefit. The admin form calls
    this to show the refusals on the form; the service calls it again under the definition's lock."""
    errors: dict[str, str] = {}
    for name in FIXED_FIELDS:
        if name in fields and fields[name] != getattr(definition, name):
            errors[name] = _("The %(field)s of a coupon cannot be changed once created.") % {"field": name}
    unknown = set(fields) - UPDATABLE_FIELDS - set(FIXED_FIELDS)
    for name in sorted(unknown):
        errors[name] = _("There is no such coupon field.")
    changed_discount = [
        name for name in DISCOUNT_FIELDS if name in fields and fields[name] != getattr(definition, name)
    ]
    if changed_discount and Voucher.objects.filter(definition=definition, status=Voucher.Status.REDEEMED).exists():
        for name in changed_discount:
            errors[name] = _("Vouchers of this coupon were redeemed: its discount can no longer change.")
    limit_total = fields.get("limit_total", definition.limit_total)
    if limit_total is not None and limit_total != definition.limit_total:
        live = vouchers_live_count(definition=definition)
        if limit_total < live:
            errors["limit_total"] = _("%(live)d vouchers are already issued: the total limit cannot be lower.") % {
                "live": live
            }
    if eligible_tiers is not None:
        tier_error = _eligible_tiers_refusal(definition, eligible_tiers)
        if tier_error:
            errors["eligible_tiers"] = tier_error
    if errors:
        raise ValidationError(errors)


def _eligible_tiers_refusal(definition: CouponDefinition, eligible_tiers: Sequence[Tier]) -> str | None:
    if any(tier.program_id != definition.program_id for tier in eligible_tiers):
        return _("Choose tiers of the coupon's program.")
    if not eligible_tiers:
        return None
    chosen = {tier.pk for tier in eligible_tiers}
    left_out = sorted(
        definition.tier_benefits.exclude(tier_id__in=chosen).values_list("tier__name", flat=True).distinct()
    )
    if left_out:
        return _("These tiers give the coupon as a tier benefit and must stay eligible: %(tiers)s.") % {
            "tiers": ", ".join(left_out)
        }
    return None


@transaction.atomic
def coupon_definition_update(
    *, definition: CouponDefinition, eligible_tiers: Sequence[Tier] | None = None, **fields: Any
) -> CouponDefinition:
    """Change a coupon definition: the given fields, and the eligible tiers when given. Locks the definition row
    (as issuing does), so that the vouchers counted against a new total limit cannot grow meanwhile. A changed
    rule applies from the next issue, claim or redemption on; vouchers already issued keep their codes and expiry.

    Raises ValidationError for what coupon_definition_update_check refuses and for values the model's
    constraints refuse; nothing is written then."""
    definition = coupon_definition_qs_select_for_update().get(pk=definition.pk)
    coupon_definition_update_check(definition=definition, eligible_tiers=eligible_tiers, **fields)
    for name, value in fields.items():
        setattr(definition, name, value)
    definition.full_clean()
    definition.save()
    if eligible_tiers is not None:
        definition.eligible_tiers.set(eligible_tiers)
    return definition
