"""The loyalty back office: every page loads, programs and tiers are editable, accounts show their balances, tier
progress and ledger without a query per row, and "Adjust points" goes through the points service."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.test import Client

from loyalty.admin.programs import ProgramAdmin
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase, Tier
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add, points_adjust_by_admin
from loyalty.services.purchases import purchase_checkout, request_fingerprint
from tests.admin_forms import admin_form_data

ACCOUNTS_URL = "/admin/loyalty/loyaltyaccount/"
# Session, user, the account (customer, program and tier joined), the latest ledger entries (purchase and author
# joined), the tier changes (tiers and their program joined), the balances, the qualifying value, the program's
# tiers; the cards inline, and the Card content type its change links need (cached per process after the first
# page; the tests start with an empty cache). (An account with an address or an enrolment store adds one each.)
ACCOUNT_CHANGE_PAGE_QUERIES = 10
# Session, user, the filtered COUNT(*), the page with its foreign keys joined, and for purchases the stores of the
# "store" filter.
CHANGELIST_QUERIES = {"/admin/loyalty/purchase/": 5, "/admin/loyalty/pointsentry/": 4, ACCOUNTS_URL: 5}


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def shown_messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in get_messages(response.wsgi_request)]


def adjust(admin_client, accounts, points, note="Goodwill"):
    return admin_client.post(
        ACCOUNTS_URL,
        {
            "action": "adjust_points",
            "_selected_action": [account.pk for account in accounts],
            "points": points,
            "note": note,
            "apply": "Adjust points",
        },
    )


@pytest.fixture
def account(program, loyalty_account_factory):
    return loyalty_account_factory()


@pytest.fixture
def gold(program):
    Program.objects.filter(pk=program.pk).update(tier_validity_days=365)
    silver = Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=Decimal("100"))
    Tier.objects.create(program=program, rank=2, code="gold", name="Gold", threshold=Decimal("500"))
    return silver


# Every page loads ------------------------------------------------------------------------------------------------


def test_program_admin_pages_load(admin_client, program):
    # when
    pages = [
        admin_client.get("/admin/loyalty/program/"),
        admin_client.get(f"/admin/loyalty/program/{program.pk}/change/"),
        admin_client.get("/admin/loyalty/program/add/"),
    ]

    # then
    assert [page.status_code for page in pages] == [200, 200, 200]


def test_tier_admin_pages_load(admin_client, program):
    # given
    tier = program.tiers.get()

    # when
    pages = [
        admin_client.get("/admin/loyalty/tier/"),
        admin_client.get(f"/admin/loyalty/tier/{tier.pk}/change/"),
        admin_client.get("/admin/loyalty/tier/add/"),
    ]

    # then
    assert [page.status_code for page in pages] == [200, 200, 200]


def test_loyalty_account_admin_pages_load(admin_client, account):
    # when
    pages = [
        admin_client.get(ACCOUNTS_URL),
        admin_client.get(f"{ACCOUNTS_URL}{account.pk}/change/"),
        admin_client.get(f"{ACCOUNTS_URL}{account.pk}/adjust-points/"),
    ]

    # then
    assert [page.status_code for page in pages] == [200, 200, 200]


def test_purchase_admin_pages_load(admin_client, account, store_factory, purchase_factory):
    # given
    purchase = purchase_factory(account=account, transaction_id="T1", total="25.00", store=store_factory())

    # when
    pages = [
        admin_client.get("/admin/loyalty/purchase/"),
        admin_client.get(f"/admin/loyalty/purchase/{purchase.pk}/change/"),
    ]

    # then
    assert [page.status_code for page in pages] == [200, 200]


def test_points_entry_admin_pages_load(admin_client, admin_user, account, purchase_factory):
    # given
    purchase_factory(account=account, transaction_id="T1", total="25.00")
    points_adjust_by_admin(account=account, points=5, user=admin_user, note="Welcome")
    entry = PointsEntry.objects.latest("pk")

    # when
    pages = [
        admin_client.get("/admin/loyalty/pointsentry/"),
        admin_client.get(f"/admin/loyalty/pointsentry/{entry.pk}/change/"),
        admin_client.get("/admin/loyalty/pointsentry/", {"account": account.pk}),
    ]

    # then
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert len(pages[2].context["cl"].result_list) == 2


# Programs and tiers are editable ---------------------------------------------------------------------------------


def test_program_page_groups_every_rule_field():
    # given
    rule_fields = {
        field.name
        for field in Program._meta.get_fields()
        if field.concrete and field.name not in ("id", "created_at", "updated_at")
    }

    # when
    fieldsets = {title: set(options["fields"]) for title, options in ProgramAdmin.fieldsets}

    # then
    assert list(fieldsets) == [
        None,
        "Earning",
        "Pending and expiry",
        "Tiers",
        "Refunds",
        "Enrolment",
        "Cards",
        "History",
    ]
    assert fieldsets["Pending and expiry"] == {"pending_days", "points_expiry_days"}
    assert fieldsets["Tiers"] == {"tier_qualification", "tier_window_days", "tier_validity_days"}
    assert fieldsets["Refunds"] == {"negative_balance_policy"}
    assert fieldsets["Enrolment"] == {"auto_enrol_channels"}
    assert fieldsets["Cards"] == {"card_number_strip_leading_zeros", "card_number_check_digit", "pos_card_numbers"}
    assert set().union(*fieldsets.values()) - {"created_at", "updated_at"} == rule_fields


def test_editing_a_program_saves_its_rules_and_tiers(admin_client, program):
    # given
    url = f"/admin/loyalty/program/{program.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update({"pending_days": "14", "points_expiry_days": "365", "negative_balance_policy": "forgive"})
    data["tiers-0-threshold"] = "0"
    data.update(
        {
            "tiers-TOTAL_FORMS": "2",
            "tiers-1-program": program.pk,
            "tiers-1-rank": "1",
            "tiers-1-code": "silver",
            "tiers-1-name": "Silver",
            "tiers-1-threshold": "500",
            "tiers-1-earn_multiplier": "1.5",
        }
    )

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.pending_days, program.points_expiry_days, program.negative_balance_policy) == (14, 365, "forgive")
    assert list(program.tiers.values_list("code", "threshold", "earn_multiplier")) == [
        ("member", Decimal("0.00"), Decimal("1.000")),
        ("silver", Decimal("500.00"), Decimal("1.500")),
    ]


@pytest.mark.parametrize("field", ["pending_days", "points_expiry_days", "tier_window_days", "tier_validity_days"])
def test_a_program_period_over_ten_years_is_refused_naming_the_field(admin_client, program, field):
    # given
    before = Program.objects.values().get(pk=program.pk)
    url = f"/admin/loyalty/program/{program.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data[field] = "3661"

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: ["Ensure this value is less than or equal to 3660."]}
    assert Program.objects.values().get(pk=program.pk) == before


def test_the_database_refuses_a_program_period_over_ten_years(program):
    # when
    with pytest.raises(IntegrityError), transaction.atomic():
        Program.objects.filter(pk=program.pk).update(tier_validity_days=3661)

    # then
    program.refresh_from_db()
    assert program.tier_validity_days == 365


def test_a_program_with_ten_year_periods_still_takes_checkouts(account, gold):
    # given
    Program.objects.filter(pk=account.program_id).update(
        pending_days=3660, points_expiry_days=3660, tier_window_days=3660, tier_validity_days=3660
    )
    account.program.refresh_from_db()

    # when
    with time_machine.travel(at("2026-01-05T12:00:00"), tick=False):
        purchase = purchase_checkout(
            account=account,
            transaction_id="T1",
            total=Decimal("150"),
            lines=[],
            items=[],
            points_burned=0,
            fingerprint=request_fingerprint({"transaction_id": "T1", "total": "150"}),
        ).purchase

    # then
    assert (purchase.state, purchase.confirm_at) == ("pending", at("2036-01-13T12:00:00"))


def test_a_second_default_program_is_refused_by_the_form(admin_client, program):
    # given
    data = admin_form_data(admin_client.get("/admin/loyalty/program/add/"))
    data.update({"code": "second", "name": "Second", "is_default": "on"})

    # when
    response = admin_client.post("/admin/loyalty/program/add/", data)

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"__all__": ["Constraint “one_default_program” is violated."]}
    assert Program.objects.count() == 1


# The account page ------------------------------------------------------------------------------------------------


def test_account_page_shows_balances_from_the_ledger_and_tier_progress(admin_client, account, gold, purchase_factory):
    # given
    with time_machine.travel(at("2026-01-05T12:00:00"), tick=False):
        purchase_factory(account=account, transaction_id="T1", total="150")
        points_add(account=account, points=20, origin=EntrySource(source="event"))

        # when
        response = admin_client.get(f"{ACCOUNTS_URL}{account.pk}/change/")

    # then
    page = response.content.decode()
    assert "<tr><th>spendable</th><td>170</td></tr><tr><th>pending</th><td>0</td></tr>" in page
    assert "<tr><th>earned</th><td>170</td></tr><tr><th>owed</th><td>0</td></tr>" in page
    assert (
        "<div>Qualifying value over the last 365 days: 170 points</div>"
        "<div>Next tier: Gold at 500 points (330 points to go).</div>"
        "<div>To keep Silver at its expiry: 100 points (met).</div>"
    ) in page
    assert f'href="/admin/loyalty/pointsentry/?account={account.pk}"' in page
    assert f'href="{ACCOUNTS_URL}{account.pk}/adjust-points/"' in page


def test_account_page_lists_the_latest_50_ledger_entries_newest_first(admin_client, admin_user, account):
    # given
    for number in range(60):
        points_adjust_by_admin(account=account, points=number + 1, user=admin_user, note=f"#{number + 1}")

    # when
    response = admin_client.get(f"{ACCOUNTS_URL}{account.pk}/change/")

    # then
    ledger = next(inline for inline in response.context["inline_admin_formsets"] if inline.formset.model is PointsEntry)
    notes = [form.instance.note for form in ledger.formset.forms]
    assert notes == [f"#{number}" for number in range(60, 10, -1)]
    assert (ledger.has_add_permission, ledger.has_change_permission, ledger.has_delete_permission) == (
        False,
        False,
        False,
    )


def test_account_page_query_count_does_not_grow_with_the_ledger(
    admin_client, admin_user, account, gold, store_factory, django_assert_max_num_queries, purchase_factory
):
    # given
    store = store_factory()
    for number in range(30):
        purchase_factory(account=account, transaction_id=f"T{number}", total="10", store=store)
        points_adjust_by_admin(account=account, points=1, user=admin_user, note="Goodwill")
    assert PointsEntry.objects.filter(account=account).count() == 60

    # when
    with django_assert_max_num_queries(ACCOUNT_CHANGE_PAGE_QUERIES):
        response = admin_client.get(f"{ACCOUNTS_URL}{account.pk}/change/")

    # then
    assert response.status_code == 200
    assert account.tier_changes.count() == 1


@pytest.mark.parametrize("url", list(CHANGELIST_QUERIES))
def test_changelist_query_count_does_not_grow_with_rows(
    admin_client, admin_user, account, store_factory, django_assert_max_num_queries, url, purchase_factory
):
    # given
    for number in range(30):
        purchase_factory(account=account, transaction_id=f"T{number}", total="10", store=store_factory())
        points_adjust_by_admin(account=account, points=1, user=admin_user, note="Goodwill")

    # when
    with django_assert_max_num_queries(CHANGELIST_QUERIES[url]):
        response = admin_client.get(url)

    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) in (1, 30, 60)


def test_account_page_shows_tier_changes(admin_client, account, gold, purchase_factory):
    # given
    with time_machine.travel(at("2026-01-05T12:00:00"), tick=False):
        purchase_factory(account=account, transaction_id="T1", total="150")

    # when
    response = admin_client.get(f"{ACCOUNTS_URL}{account.pk}/change/")

    # then
    changes = next(
        inline for inline in response.context["inline_admin_formsets"] if inline.formset.model.__name__ == "TierChange"
    )
    assert [(form.instance.from_tier.code, form.instance.to_tier.code) for form in changes.formset.forms] == [
        ("member", "silver")
    ]


def test_accounts_stay_view_only(admin_client, account):
    # when
    change = admin_client.post(f"{ACCOUNTS_URL}{account.pk}/change/", {"points_balance": "1000"})
    delete = admin_client.post(f"{ACCOUNTS_URL}{account.pk}/delete/", {"post": "yes"})

    # then
    assert (change.status_code, delete.status_code) == (403, 403)
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 0


# Adjust points ---------------------------------------------------------------------------------------------------


def test_adjusting_points_adds_an_admin_entry_by_the_admin_user(admin_client, admin_user, account):
    # when
    response = adjust(admin_client, [account], "50", note="Late delivery")

    # then
    assert (response.status_code, response["Location"]) == (302, f"{ACCOUNTS_URL}{account.pk}/change/")
    assert shown_messages(response) == [("success", "Adjusted 1 account(s) by +50 points.")]
    entry = PointsEntry.objects.get(account=account)
    assert (entry.kind, entry.bucket, entry.points, entry.source, entry.note, entry.created_by) == (
        "adjust",
        "spendable",
        50,
        "admin",
        "Late delivery",
        admin_user,
    )
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 50


def test_taking_points_away_goes_through_the_same_service(admin_client, admin_user, account):
    # given
    points_add(account=account, points=80, origin=EntrySource(source="event"))

    # when
    adjust(admin_client, [account], "-30", note="Duplicate goodwill")

    # then
    entry = PointsEntry.objects.filter(account=account, source="admin").get()
    assert (entry.kind, entry.points, entry.created_by) == ("adjust", -30, admin_user)
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 50


def test_adjusting_below_zero_is_refused_and_writes_nothing(admin_client, account):
    # given
    points_add(account=account, points=10, origin=EntrySource(source="event"))
    entries = PointsEntry.objects.count()

    # when
    response = adjust(admin_client, [account], "-11")

    # then
    assert response.status_code == 200
    assert shown_messages(response) == [
        ("error", f"{account.account_number}: Not enough points: 10 available, 11 requested. Nothing was changed.")
    ]
    assert PointsEntry.objects.count() == entries
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 10


def test_adjusting_several_accounts_is_all_or_nothing(admin_client, program, loyalty_account_factory):
    # given
    rich, poor = (loyalty_account_factory() for _ in range(2))
    points_add(account=rich, points=100, origin=EntrySource(source="event"))
    entries = PointsEntry.objects.count()

    # when
    response = adjust(admin_client, [rich, poor], "-20")

    # then
    assert shown_messages(response) == [
        ("error", f"{poor.account_number}: Not enough points: 0 available, 20 requested. Nothing was changed.")
    ]
    assert PointsEntry.objects.count() == entries
    assert list(LoyaltyAccount.objects.order_by("pk").values_list("points_balance", flat=True)) == [100, 0]


def test_adjusting_by_zero_points_is_a_form_error(admin_client, account):
    # when
    response = adjust(admin_client, [account], "0")

    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"points": ["An adjustment needs a non-zero number of points."]}
    assert PointsEntry.objects.count() == 0


def test_the_action_first_asks_for_points_and_a_note(admin_client, account):
    # when
    response = admin_client.post(ACCOUNTS_URL, {"action": "adjust_points", "_selected_action": [account.pk]})

    # then
    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["points", "note"]
    assert response.context["form"].errors == {}
    assert PointsEntry.objects.count() == 0


def test_only_users_who_may_change_accounts_can_adjust_points(django_user_model, account):
    # given
    viewer = django_user_model.objects.create_user(username="viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_loyaltyaccount"))
    client = Client()
    client.force_login(viewer)

    # when
    page = client.get(f"{ACCOUNTS_URL}{account.pk}/change/")
    form = client.get(f"{ACCOUNTS_URL}{account.pk}/adjust-points/")
    action = adjust(client, [account], "50")

    # then
    assert (page.status_code, form.status_code) == (200, 403)
    assert "adjust-points" not in page.content.decode()
    assert action.status_code == 200
    assert PointsEntry.objects.count() == 0


# Purchases and the ledger ----------------------------------------------------------------------------------------


def test_purchase_search_matches_the_exact_transaction_id(admin_client, account, purchase_factory):
    # given
    wanted = purchase_factory(account=account, transaction_id="POS-1001", total="10")
    purchase_factory(account=account, transaction_id="POS-10011", total="10")

    # when
    exact = admin_client.get("/admin/loyalty/purchase/", {"q": " POS-1001 "})
    prefix = admin_client.get("/admin/loyalty/purchase/", {"q": "POS-100"})

    # then
    assert list(exact.context["cl"].result_list) == [wanted]
    assert list(prefix.context["cl"].result_list) == []


def test_purchases_and_ledger_entries_are_view_only(admin_client, account, purchase_factory):
    # given
    purchase = purchase_factory(account=account, transaction_id="T1", total="10")
    entry = PointsEntry.objects.get(purchase=purchase)

    # when
    responses = [
        admin_client.get("/admin/loyalty/purchase/add/"),
        admin_client.post(f"/admin/loyalty/purchase/{purchase.pk}/change/", {"total": "0"}),
        admin_client.post(f"/admin/loyalty/purchase/{purchase.pk}/delete/", {"post": "yes"}),
        admin_client.get("/admin/loyalty/pointsentry/add/"),
        admin_client.post(f"/admin/loyalty/pointsentry/{entry.pk}/change/", {"points": "1000"}),
        admin_client.post(f"/admin/loyalty/pointsentry/{entry.pk}/delete/", {"post": "yes"}),
    ]

    # then
    assert [response.status_code for response in responses] == [403] * 6
    assert Purchase.objects.get(pk=purchase.pk).total == Decimal("10.00")
    assert PointsEntry.objects.get(pk=entry.pk).points == 10


def test_auto_enrol_channels_are_checkboxes_saved_as_a_list(admin_client, program):
    # given
    url = f"/admin/loyalty/program/{program.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data["auto_enrol_channels"] = ["web", "mobile"]

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.auto_enrol_channels == ["web", "mobile"]
