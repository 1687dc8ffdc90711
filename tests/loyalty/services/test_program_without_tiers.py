"""A program may run without tiers (points only): checkouts earn points and no tier is ever assigned."""

from decimal import Decimal

import pytest

from loyalty.models import PointsEntry, Program, TierChange
from loyalty.rules.tiers import tier_reached
from loyalty.services.purchases import purchase_checkout, request_fingerprint


def test_tier_reached_refuses_an_empty_tier_list():
    with pytest.raises(ValueError, match="at least one tier"):
        tier_reached([], Decimal("10"))


def test_a_checkout_in_a_program_without_tiers_earns_points_and_assigns_no_tier(loyalty_account_factory):
    # given
    program = Program.objects.create(code="points-only", name="Points only", earn_rate=Decimal("2"))
    account = loyalty_account_factory(program=program)
    payload = {"transaction_id": "T-1", "total": "25.00"}

    # when
    result = purchase_checkout(
        account=account,
        transaction_id="T-1",
        total=Decimal("25.00"),
        lines=[],
        items=[],
        points_burned=0,
        fingerprint=request_fingerprint(payload),
    )

    # then
    account.refresh_from_db()
    assert result.purchase.points_earned == 50
    assert account.points_balance == 50
    assert account.tier_id is None
    assert not TierChange.objects.filter(account=account).exists()
    assert list(PointsEntry.objects.filter(account=account).values_list("kind", "points")) == [("earn", 50)]
