"""Several accounts adjusted at once from the back office: all or nothing, the refusing account named."""

import pytest

from core.exceptions import ApplicationError
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount, PointsEntry
from loyalty.services.adjustments import points_adjust_accounts_by_admin
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add


def test_every_account_is_adjusted_by_the_admin_user(enrolled_account, admin_user):
    # given
    first, second = enrolled_account(), enrolled_account()

    # when
    points_adjust_accounts_by_admin(accounts=[second, first], points=25, user=admin_user, note="Goodwill")

    # then
    entries = PointsEntry.objects.filter(source="admin").order_by("account_id")
    assert list(entries.values_list("account_id", "points", "note", "created_by")) == [
        (first.pk, 25, "Goodwill", admin_user.pk),
        (second.pk, 25, "Goodwill", admin_user.pk),
    ]


def test_one_refusal_rolls_back_the_accounts_adjusted_before_it(enrolled_account, admin_user):
    # given
    rich, poor = enrolled_account(), enrolled_account()
    points_add(account=rich, points=100, origin=EntrySource(source="event"))
    entries = PointsEntry.objects.count()

    # when
    with pytest.raises(ApplicationError) as refusal:
        points_adjust_accounts_by_admin(accounts=[rich, poor], points=-20, user=admin_user, note="Correction")

    # then
    assert refusal.value.code == LoyaltyErrorCode.INSUFFICIENT_POINTS
    assert refusal.value.extra["account_number"] == poor.account_number
    assert PointsEntry.objects.count() == entries
    assert list(LoyaltyAccount.objects.order_by("pk").values_list("points_balance", flat=True)) == [100, 0]
