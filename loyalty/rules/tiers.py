"""Tier rules, in one place: which tier a qualifying value reaches, and what happens at a tier's expiry.
Pure: tiers come in as (rank, threshold, keep_threshold) records, no database."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, Protocol, TypeVar


class TierLike(Protocol):
    rank: int
    threshold: Decimal

    @property
    def keep_threshold(self) -> Decimal: ...


T = TypeVar("T", bound=TierLike)


@dataclass(frozen=True)
class ExpiryDecision(Generic[T]):
    tier: T
    renewed: bool


def tier_reached(tiers: Sequence[T], value: Decimal) -> T:
    """The best tier whose threshold the value meets; the entry tier (lowest rank) at least. `tiers` must not be
    empty: a program without tiers has nothing to reach (callers check)."""
    if not tiers:
        raise ValueError("tier_reached needs at least one tier")
    ordered = sorted(tiers, key=lambda tier: tier.rank)
    reached = ordered[0]
    for tier in ordered:
        if value >= tier.threshold:
            reached = tier
    return reached


def is_upgrade(current: T | None, candidate: T) -> bool:
    return current is None or candidate.rank > current.rank


def decision_at_expiry(tiers: Sequence[T], current: T, value: Decimal) -> ExpiryDecision[T]:
    """At expiry: keep the tier if the value meets its renewal threshold (or move up if it meets a higher one);
    otherwise drop one tier. A value that still meets the tier's entry threshold but not a higher renewal
    threshold does not keep it either."""
    reached = tier_reached(tiers, value)
    if reached.rank > current.rank:
        return ExpiryDecision(tier=reached, renewed=True)
    if value >= current.keep_threshold:
        return ExpiryDecision(tier=current, renewed=True)
    below = sorted((tier for tier in tiers if tier.rank < current.rank), key=lambda tier: tier.rank)
    return ExpiryDecision(tier=below[-1] if below else current, renewed=False)
