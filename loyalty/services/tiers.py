from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase, Tier, TierChange
from loyalty.rules.tiers import decision_at_expiry, is_upgrade, tier_reached
from loyalty.services.tier_benefits import tier_benefits_issue
from loyalty.webhook_emitters import tier_changed_event

# What counts towards a tier. Shared with the SQL form in loyalty/selectors/accounts.py (qualifying values for many
# accounts at once). Windows have no upper bound: nothing is dated after the present, and ledger entries are
# stamped a moment after the `now` a service captured, so an upper bound would miss the points that cross a
# threshold.
QUALIFYING_PURCHASE_STATES = (Purchase.State.ACCEPTED, Purchase.State.PARTIALLY_REFUNDED)


def qualifying_points_filter() -> Q:
    """Points earned on purchases and added, less points taken back by refunds."""
    return Q(is_lot=True, kind__in=[PointsEntry.Kind.EARN, PointsEntry.Kind.ADJUST]) | Q(
        kind=PointsEntry.Kind.REFUND, points__lt=0, purchase__isnull=False
    )


def qualifying_value(*, account: LoyaltyAccount, now: datetime) -> Decimal:
    """What tiers are judged on, over the program's window ending at `now`: qualifying points, or spend less
    refunds."""
    program = account.program
    since = now - timedelta(days=program.tier_window_days)
    if program.tier_qualification == Program.TierQualification.SPEND:
        spend = Purchase.objects.filter(
            account=account, purchased_at__gt=since, state__in=QUALIFYING_PURCHASE_STATES
        ).aggregate(total=Coalesce(Sum(F("total") - F("refunded_total")), Decimal("0")))["total"]
        return Decimal(spend)
    earned = PointsEntry.objects.filter(qualifying_points_filter(), account=account, created_at__gt=since).aggregate(
        total=Coalesce(Sum("points"), 0)
    )["total"]
    return Decimal(earned)


def _program_tiers(program: Program) -> list[Tier]:
    """Lowest rank first: those kept on the program (program_tiers_keep, program_get_default_with_tiers), else
    read now."""
    kept = getattr(program, "tiers_by_rank", None)
    return list(kept) if kept is not None else list(program.tiers.order_by("rank"))


def program_tiers_keep(program: Program) -> Program:
    """Read the program's tiers once and keep them on `program`, where tier_recalculate finds them: for a caller
    that runs many checkouts on this one instance (a bulk of events). An edit made meanwhile counts from the next
    request on."""
    if getattr(program, "tiers_by_rank", None) is None:
        program.tiers_by_rank = _program_tiers(program)  # type: ignore[attr-defined]
    return program


def _move(account: LoyaltyAccount, tier: Tier, reason: str, value: Decimal, now: datetime) -> TierChange:
    previous = account.tier
    renewed = reason == TierChange.Reason.RENEWAL
    # A renewal runs on from the old expiry date, so that a late job run gives no extra days.
    starts = account.tier_expires_at if renewed and account.tier_expires_at else now
    account.tier = tier
    if not renewed:
        account.tier_achieved_at = now
    account.tier_expires_at = None if tier.rank == 0 else starts + timedelta(days=account.program.tier_validity_days)
    account.save(update_fields=["tier", "tier_achieved_at", "tier_expires_at", "updated_at"])
    change = TierChange.objects.create(
        account=account,
        from_tier=previous,
        to_tier=tier,
        reason=reason,
        qualifying_value=value,
        expires_at=account.tier_expires_at,
        changed_at=now,
    )
    tier_changed_event(change)
    tier_benefits_issue(account=account, tier_change=change, reason=reason, now=now)
    return change


def tier_recalculate(*, account: LoyaltyAccount, now: datetime) -> TierChange | None:
    """Upgrade the account when its qualifying value reaches a better tier. Never downgrades: that happens only
    at the tier's expiry (tier_evaluate_expiry). The caller holds the account lock."""
    tiers = _program_tiers(account.program)
    if not tiers:  # a program without tiers (points only): nothing to reach
        return None
    if account.tier is not None and account.tier.rank >= tiers[-1].rank:  # at the top already: nothing to count
        return None
    value = qualifying_value(account=account, now=now)
    reached = tier_reached(tiers, value)
    if not is_upgrade(account.tier, reached):
        return None
    return _move(account, reached, TierChange.Reason.UPGRADE, value, now)


def tier_evaluate_expiry(*, account: LoyaltyAccount, now: datetime) -> TierChange | None:
    """At or after the tier's expiry date: renew it for another validity period if the renewal threshold is met,
    otherwise drop one tier (or to the tier the value still reaches). The caller holds the account lock."""
    if account.tier is None or account.tier_expires_at is None or account.tier_expires_at > now:
        return None
    value = qualifying_value(account=account, now=now)
    decision = decision_at_expiry(_program_tiers(account.program), account.tier, value)
    if decision.renewed and decision.tier.pk == account.tier_id:
        return _move(account, decision.tier, TierChange.Reason.RENEWAL, value, now)
    reason = TierChange.Reason.UPGRADE if decision.tier.rank > account.tier.rank else TierChange.Reason.DOWNGRADE
    return _move(account, decision.tier, reason, value, now)
