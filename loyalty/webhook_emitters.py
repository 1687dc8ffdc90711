"""Webhook events of the loyalty engine, written to the outbox inside the service's transaction."""

from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Max, Q, Sum
from django.db.models.functions import Coalesce

from loyalty.models import CouponDefinition, LoyaltyAccount, PointsEntry, Purchase, TierChange, Voucher
from webhooks.services.events import webhook_event_emit


def account_enrolled_event(account: LoyaltyAccount) -> None:
    webhook_event_emit(
        type="loyalty.enrolled",
        payload={
            "customer_id": account.customer.public_id,
            "account": {
                "number": account.account_number,
                "program": account.program.code,
                "state": account.state,
                "tier": account.tier.code if account.tier else None,
                "points_balance": account.points_balance,
                "enrolled_at": account.enrolled_at,
                "enrolled_store": account.enrolled_store.code if account.enrolled_store else None,
            },
        },
        entity_id=account.account_number,
        updated_at=account.updated_at,
    )


def account_opted_out_event(account: LoyaltyAccount) -> None:
    """The customer left the program (events API opt_out, or the POS withdrew the loyalty consent): the account is
    a guest now, its points kept but frozen. A later opt-in says loyalty.enrolled again, with the same number."""
    webhook_event_emit(
        type="loyalty.opted_out",
        payload={
            "customer_id": account.customer.public_id,
            "account": {
                "number": account.account_number,
                "program": account.program.code,
                "state": account.state,
                "points_balance": account.points_balance,
                "opted_out_at": account.opted_out_at,
            },
        },
        entity_id=account.account_number,
        updated_at=account.updated_at,
    )


def points_changed_event(
    account: LoyaltyAccount,
    *,
    kind: str,
    change: int,
    source: str,
    reference: str = "",
    expires_at: datetime | None = None,
) -> None:
    """One event per operation (a checkout that burns and earns is one event with the net change). The entity
    version is the newest ledger entry id, which only grows, so receivers can drop stale balances."""
    sums = PointsEntry.objects.filter(account=account).aggregate(
        pending=Coalesce(Sum("points", filter=Q(bucket=PointsEntry.Bucket.PENDING)), 0), version=Max("id")
    )
    webhook_event_emit(
        type="loyalty.points_changed",
        payload={
            "customer_id": account.customer.public_id,
            "account_number": account.account_number,
            "kind": kind,
            "change": change,
            # The cached balance equals the ledger's spendable sum (loyalty/services/ledger.py keeps it so).
            "balance": account.points_balance,
            "pending": sums["pending"],
            "source": source,
            "reference": reference,
            "expires_at": expires_at,
        },
        entity_id=account.account_number,
        version=sums["version"] or 0,
    )


def points_changed_since(
    account: LoyaltyAccount,
    *,
    balance_before: int,
    kind: str,
    source: str = "purchase",
    reference: str = "",
    pending_moved: int = 0,
) -> None:
    """points_changed_event for an operation, when it moved spendable points (since `balance_before`, read under
    the account lock) or pending points."""
    change = account.points_balance - balance_before
    if change or pending_moved:
        points_changed_event(account, kind=kind, change=change, source=source, reference=reference)


def tier_changed_event(change: TierChange) -> None:
    account = change.account
    webhook_event_emit(
        type="loyalty.tier_changed",
        payload={
            "customer_id": account.customer.public_id,
            "account_number": account.account_number,
            "from_tier": change.from_tier.code if change.from_tier else None,
            "to_tier": change.to_tier.code,
            "reason": change.reason,
            "qualifying_value": Decimal(change.qualifying_value),
            "expires_at": change.expires_at,
        },
        entity_id=account.account_number,
        updated_at=change.changed_at,
    )


def _purchase_payload(purchase: Purchase) -> dict:
    return {
        "customer_id": purchase.account.customer.public_id,
        "account_number": purchase.account.account_number,
        "transaction_id": purchase.transaction_id,
        "store": purchase.store.code if purchase.store else None,
        "channel": purchase.channel,
        "currency": purchase.currency,
        "total": purchase.total,
        "eligible_total": purchase.eligible_total,
        "points_earned": purchase.points_earned,
        "points_burned": purchase.points_burned,
        "state": purchase.state,
        "purchased_at": purchase.purchased_at,
    }


def purchase_accepted_event(purchase: Purchase) -> None:
    webhook_event_emit(
        type="purchase.accepted",
        payload={"purchase": _purchase_payload(purchase)},
        entity_id=purchase.transaction_id,
        updated_at=purchase.updated_at,
    )


def purchase_refunded_event(purchase: Purchase, *, amount: Decimal, points_taken_back: int) -> None:
    webhook_event_emit(
        type="purchase.refunded",
        payload={
            "purchase": {**_purchase_payload(purchase), "refunded_total": purchase.refunded_total},
            "refund": {"amount": amount, "points_taken_back": points_taken_back, "refunded_at": purchase.updated_at},
        },
        entity_id=purchase.transaction_id,
        updated_at=purchase.updated_at,
    )


# Our coupon kinds under the names of Antavo's voucher types, which coupon.claimed receivers already know.
COUPON_TYPES: dict[str, str] = {
    CouponDefinition.Kind.PERCENT: "percentage",
    CouponDefinition.Kind.AMOUNT: "fixed_amount",
    CouponDefinition.Kind.FREE_ITEM: "free_item",
}


def _coupon_value(definition: CouponDefinition) -> str:
    if definition.kind == CouponDefinition.Kind.FREE_ITEM:
        return definition.product_id
    if definition.kind == CouponDefinition.Kind.PERCENT:
        # "10", not "10.00": a percentage is not money.
        return format(Decimal(definition.value).normalize(), "f")
    return str(Decimal(definition.value).quantize(Decimal("0.01")))


def _coupon_payload(voucher: Voucher) -> dict:
    definition = voucher.definition
    return {
        "code": voucher.code,
        "status": voucher.status,
        "type": COUPON_TYPES[definition.kind],
        "value": _coupon_value(definition),
        "name": definition.name,
        "expires_at": voucher.expires_at,
        "created_at": voucher.issued_at,
    }


def _iso_with_offset(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def coupon_issued_event(voucher: Voucher) -> None:
    webhook_event_emit(
        type="coupon.issued",
        payload={
            "customer_id": voucher.customer.public_id if voucher.customer else None,
            "coupon": _coupon_payload(voucher),
        },
        entity_id=voucher.code,
        updated_at=voucher.updated_at,
    )


def coupon_claimed_event(voucher: Voucher) -> None:
    """Antavo's voucher_claimed fields, in its camelCase (webhooks/catalogue.py says why). Antavo names the customer
    `consentGuid`; ours is the public id, also sent as `customerId` for receivers built on the earlier payload."""
    definition = voucher.definition
    customer_id = voucher.customer.public_id if voucher.customer else None
    webhook_event_emit(
        type="coupon.claimed",
        payload={
            "consentGuid": customer_id,
            "customerId": customer_id,
            "voucherCode": voucher.code,
            "voucherStatus": voucher.status,
            "voucherType": COUPON_TYPES[definition.kind],
            "value": _coupon_value(definition),
            "voucherName": definition.name,
            "expiresAt": _iso_with_offset(voucher.expires_at),
            "createdAt": _iso_with_offset(voucher.issued_at),
            "claimedAt": _iso_with_offset(voucher.claimed_at),
            "eventName": "voucher_claimed",
        },
        entity_id=voucher.code,
        updated_at=voucher.updated_at,
    )


def coupon_redeemed_event(voucher: Voucher) -> None:
    webhook_event_emit(
        type="coupon.redeemed",
        payload={
            "customer_id": voucher.customer.public_id if voucher.customer else None,
            "coupon": _coupon_payload(voucher),
            "redeemed_at": voucher.redeemed_at,
            "transaction_id": voucher.redeemed_transaction_id,
            "store": voucher.redeemed_store.code if voucher.redeemed_store else None,
        },
        entity_id=voucher.code,
        updated_at=voucher.updated_at,
    )
