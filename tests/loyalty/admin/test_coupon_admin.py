"""The coupon back office: coupon definition, voucher, voucher batch and tier benefit pages load without a query per
row; definitions are created through coupon_definition_create and edited through coupon_definition_update (its
refusals shown on the form); vouchers are view-only, found by code or customer id, cancelled through voucher_cancel
and exported to CSV; tier benefits are configured through their services, on their own page or the tier's."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from loyalty.models import CouponDefinition, Tier, TierBenefitCoupon, TierBenefitGrant, Voucher, VoucherBatch
from loyalty.services.coupon_definitions import coupon_definition_create, coupon_definition_update
from loyalty.services.tier_benefits import tier_benefit_coupon_create, tier_benefit_coupon_update
from tests.admin_forms import admin_form_data
from tests.loyalty.factories import VoucherFactory

DEFINITIONS_URL = "/admin/loyalty/coupondefinition/"
VOUCHERS_URL = "/admin/loyalty/voucher/"
NOW = datetime(2026, 3, 1, 9, 10, tzinfo=UTC)
# Session, user, the filtered COUNT(*), the page with its foreign keys joined, the filter's choices.
CHANGELIST_QUERIES = 5


@pytest.fixture
def definition(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program,
        code="welcome-10",
        name="Welcome 10",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        code_pattern="WELCOME-{code}",
    )


@pytest.fixture
def member(enrolled_account):
    return enrolled_account().customer


def _voucher(definition, code, customer=None, **changes) -> Voucher:
    voucher = VoucherFactory(definition=definition, customer=customer, now=NOW)
    Voucher.objects.filter(pk=voucher.pk).update(code=code, normalised_code=code.replace("-", ""), **changes)
    voucher.refresh_from_db()
    return voucher


def _shown_messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in get_messages(response.wsgi_request)]


def _action(admin_client, action, vouchers):
    return admin_client.post(VOUCHERS_URL, {"action": action, "_selected_action": [v.pk for v in vouchers]})


# Coupon definitions ------------------------------------------------------------------------------------------------


def test_coupon_definition_admin_pages_load(admin_client, definition, django_assert_max_num_queries):
    # when
    with django_assert_max_num_queries(CHANGELIST_QUERIES + 1):
        changelist = admin_client.get(DEFINITIONS_URL)
    pages = [changelist, admin_client.get(f"{DEFINITIONS_URL}{definition.pk}/change/")]
    pages.append(admin_client.get(f"{DEFINITIONS_URL}add/"))

    # then
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "Welcome 10" in changelist.content.decode()


def test_adding_a_coupon_definition_goes_through_the_service(admin_client, program, monkeypatch):
    # given
    gold = Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))
    calls = []

    def spy(**kwargs):
        calls.append(kwargs["code"])
        return coupon_definition_create(**kwargs)

    monkeypatch.setattr("loyalty.admin.coupons.coupon_definition_create", spy)

    # when
    response = admin_client.post(
        f"{DEFINITIONS_URL}add/",
        {
            "program": program.pk,
            "code": "gold-15",
            "name": "Gold 15",
            "kind": "percent",
            "value": "15",
            "channels": ["pos", "scan_and_go"],
            "eligible_tiers": [gold.pk],
            "min_basket": "20",
            "code_pattern": "GOLD-{code}",
            "is_active": "on",
        },
    )

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert calls == ["gold-15"]
    definition = CouponDefinition.objects.get(code="gold-15")
    assert (definition.kind, definition.value, definition.channels) == (
        "percent",
        Decimal("15"),
        ["pos", "scan_and_go"],
    )
    assert list(definition.eligible_tiers.all()) == [gold]


def test_a_percent_over_100_is_shown_on_the_form_and_writes_nothing(admin_client, program):
    # when
    response = admin_client.post(
        f"{DEFINITIONS_URL}add/",
        {
            "program": program.pk,
            "code": "too-much",
            "name": "Too much",
            "kind": "percent",
            "value": "150",
            "channels": ["pos"],
            "min_basket": "0",
            "code_pattern": "{code}",
        },
    )

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not CouponDefinition.objects.filter(code="too-much").exists()


def test_editing_a_coupon_definition_validates_and_keeps_program_and_code(admin_client, definition):
    # given
    url = f"{DEFINITIONS_URL}{definition.pk}/change/"
    data = {
        "name": "Welcome 12",
        "kind": "percent",
        "value": "12",
        "channels": ["web"],
        "min_basket": "0",
        "code_pattern": "WELCOME-{code}",
        "is_active": "on",
        "code": "renamed",
    }

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.code, definition.name, definition.value, definition.channels) == (
        "welcome-10",
        "Welcome 12",
        Decimal("12"),
        ["web"],
    )


# Vouchers ----------------------------------------------------------------------------------------------------------


def test_voucher_admin_pages_load_and_are_view_only(
    admin_client, definition, member, django_assert_max_num_queries, voucher_factory
):
    # given
    voucher = _voucher(definition, "WELCOME-AAAA-BBBB", customer=member)
    for _ in range(5):
        voucher_factory(definition=definition, now=NOW)

    # when
    with django_assert_max_num_queries(CHANGELIST_QUERIES + 1):
        changelist = admin_client.get(VOUCHERS_URL)
    change = admin_client.get(f"{VOUCHERS_URL}{voucher.pk}/change/")
    add = admin_client.get(f"{VOUCHERS_URL}add/")
    edit = admin_client.post(f"{VOUCHERS_URL}{voucher.pk}/change/", {"status": "redeemed"})

    # then
    assert (changelist.status_code, change.status_code, add.status_code, edit.status_code) == (200, 200, 403, 403)
    assert change.context["has_change_permission"] is False
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.ISSUED


def test_voucher_search_finds_a_code_typed_loosely_and_a_customer_id(admin_client, definition, member):
    # given
    mine = _voucher(definition, "WELCOME-AAAA-BBBB", customer=member)
    _voucher(definition, "WELCOME-CCCC-DDDD")

    # when
    by_code = admin_client.get(VOUCHERS_URL, {"q": " welcome aaaa_bbbb "})
    by_customer = admin_client.get(VOUCHERS_URL, {"q": member.public_id.lower()})

    # then
    assert list(by_code.context["cl"].result_list) == [mine]
    assert list(by_customer.context["cl"].result_list) == [mine]


def test_cancel_action_cancels_through_the_service_and_shows_refusals(admin_client, definition, member):
    # given
    live = _voucher(definition, "WELCOME-AAAA-BBBB")
    redeemed = _voucher(
        definition,
        "WELCOME-CCCC-DDDD",
        customer=member,
        status=Voucher.Status.REDEEMED,
        redeemed_at=NOW,
        redeemed_transaction_id="T1",
        redemption_amount=Decimal("1.00"),
    )

    # when
    response = _action(admin_client, "cancel", [live, redeemed])

    # then
    assert response.status_code == 302
    live.refresh_from_db()
    redeemed.refresh_from_db()
    assert (live.status, redeemed.status) == (Voucher.Status.CANCELLED, Voucher.Status.REDEEMED)
    levels = [level for level, _text in _shown_messages(response)]
    assert sorted(levels) == ["error", "success"]
    assert any(text.startswith("WELCOME-CCCC-DDDD: ") for _level, text in _shown_messages(response))


def test_csv_export_streams_the_selected_vouchers(admin_client, definition, member):
    # given
    first = _voucher(definition, "WELCOME-AAAA-BBBB", customer=member, expires_at=datetime(2026, 6, 1, tzinfo=UTC))
    second = _voucher(
        definition,
        "WELCOME-CCCC-DDDD",
        customer=member,
        status=Voucher.Status.REDEEMED,
        redeemed_at=datetime(2026, 3, 2, 12, 30, tzinfo=UTC),
        redeemed_transaction_id="T1",
        redemption_amount=Decimal("1.00"),
    )
    anonymous = _voucher(definition, "WELCOME-EEEE-FFFF", origin=Voucher.Origin.BATCH)
    _voucher(definition, "WELCOME-GGGG-HHHH")  # not selected

    # when
    response = _action(admin_client, "export_csv", [second, anonymous, first])

    # then
    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="vouchers.csv"'
    assert b"".join(response.streaming_content).decode() == (
        "code,status,origin,customer,expires_at,redeemed_at\r\n"
        f"WELCOME-AAAA-BBBB,issued,manual,{member.public_id},2026-06-01T00:00:00+00:00,\r\n"
        f"WELCOME-CCCC-DDDD,redeemed,manual,{member.public_id},,2026-03-02T12:30:00+00:00\r\n"
        "WELCOME-EEEE-FFFF,issued,batch,,,\r\n"
    )


def test_editing_goes_through_the_update_service_and_its_refusals_show_on_the_form(
    admin_client, definition, monkeypatch, voucher_factory
):
    # given: three live vouchers
    for _ in range(3):
        voucher_factory(definition=definition, now=NOW)
    calls = []

    def spy(**kwargs):
        calls.append(kwargs["limit_total"])
        return coupon_definition_update(**kwargs)

    monkeypatch.setattr("loyalty.admin.coupons.coupon_definition_update", spy)
    url = f"{DEFINITIONS_URL}{definition.pk}/change/"
    data = {
        "name": "Welcome 10",
        "kind": "percent",
        "value": "10",
        "channels": ["pos"],
        "min_basket": "0",
        "code_pattern": "WELCOME-{code}",
        "is_active": "on",
    }
    before = CouponDefinition.objects.values().get(pk=definition.pk)

    # when
    refused = admin_client.post(url, {**data, "limit_total": "2"})
    after_refusal = CouponDefinition.objects.values().get(pk=definition.pk)
    accepted = admin_client.post(url, {**data, "limit_total": "3"})

    # then
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "limit_total": ["3 vouchers are already issued: the total limit cannot be lower."]
    }
    assert after_refusal == before
    assert accepted.status_code == 302
    assert calls == [3]
    definition.refresh_from_db()
    assert (definition.limit_total, definition.channels) == (3, ["pos"])


def test_voucher_batch_and_tier_benefit_pages_load(
    admin_client, definition, program, member, django_assert_max_num_queries
):
    # given
    tier = program.tiers.get(rank=0)
    benefit = tier_benefit_coupon_create(tier=tier, definition=definition)
    grant = TierBenefitGrant.objects.create(
        account=member.loyalty_accounts.get(),
        benefit=benefit,
        occasion="enrolment",
        outcome=TierBenefitGrant.Outcome.REFUSED,
        refusal="COUPON_LIMIT_REACHED",
        created_at=NOW,
    )
    batches = [VoucherBatch.objects.create(definition=definition, requested_count=10) for _ in range(3)]

    # when
    with django_assert_max_num_queries(CHANGELIST_QUERIES + 1):
        batch_list = admin_client.get("/admin/loyalty/voucherbatch/")
    with django_assert_max_num_queries(CHANGELIST_QUERIES + 1):
        benefit_list = admin_client.get("/admin/loyalty/tierbenefitcoupon/")
    with django_assert_max_num_queries(CHANGELIST_QUERIES + 1):
        grant_list = admin_client.get("/admin/loyalty/tierbenefitgrant/")
    pages = [
        admin_client.get(f"/admin/loyalty/voucherbatch/{batches[0].pk}/change/"),
        admin_client.get(f"/admin/loyalty/tierbenefitcoupon/{benefit.pk}/change/"),
        admin_client.get("/admin/loyalty/tierbenefitcoupon/add/"),
        admin_client.get(f"/admin/loyalty/tierbenefitgrant/{grant.pk}/change/"),
        admin_client.get(f"/admin/loyalty/tier/{tier.pk}/change/"),
    ]

    # then
    assert [page.status_code for page in (batch_list, benefit_list, grant_list, *pages)] == [200] * 8
    assert "Issued 0 of 10 (0%)" in batch_list.content.decode()
    assert "COUPON_LIMIT_REACHED" in grant_list.content.decode()


def test_a_tier_benefit_for_a_coupon_not_for_the_tier_is_refused_on_the_form(admin_client, definition, program):
    # given
    gold = Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))
    entry = program.tiers.get(rank=0)
    definition.eligible_tiers.set([gold])
    data = {"definition": definition.pk, "on_upgrade": "on", "validity_days": "30"}

    # when
    refused = admin_client.post("/admin/loyalty/tierbenefitcoupon/add/", {**data, "tier": entry.pk})
    accepted = admin_client.post("/admin/loyalty/tierbenefitcoupon/add/", {**data, "tier": gold.pk})

    # then
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "definition": ["The coupon is not for Member: add the tier to its eligible tiers first."]
    }
    assert accepted.status_code == 302
    assert list(TierBenefitCoupon.objects.values_list("tier__code", "validity_days")) == [("gold", 30)]


def test_a_tier_benefit_valid_beyond_ten_years_is_refused_on_the_form_and_writes_nothing(
    admin_client, definition, program
):
    # given
    tier = program.tiers.get(rank=0)
    data = {"tier": tier.pk, "definition": definition.pk, "on_enrolment": "on", "validity_days": "3000000"}

    # when
    response = admin_client.post("/admin/loyalty/tierbenefitcoupon/add/", data)

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "validity_days": ["Ensure this value is less than or equal to 3660."]
    }
    assert not TierBenefitCoupon.objects.exists()


def test_a_tier_benefit_valid_beyond_ten_years_is_refused_inline_on_the_tier_page(admin_client, definition, program):
    # given
    tier = program.tiers.get(rank=0)
    url = f"/admin/loyalty/tier/{tier.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update(
        {
            "benefit_coupons-TOTAL_FORMS": "1",
            "benefit_coupons-0-definition": str(definition.pk),
            "benefit_coupons-0-on_enrolment": "on",
            "benefit_coupons-0-validity_days": "3661",
            "benefit_coupons-0-is_active": "on",
        }
    )

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {"validity_days": ["Ensure this value is less than or equal to 3660."]}
    ]
    assert not TierBenefitCoupon.objects.exists()


def test_tier_benefits_are_added_inline_on_the_tier_page_through_the_service(
    admin_client, definition, program, monkeypatch
):
    # given
    tier = program.tiers.get(rank=0)
    calls = []

    def spy(**kwargs):
        calls.append(kwargs["definition"].code)
        return tier_benefit_coupon_create(**kwargs)

    monkeypatch.setattr("loyalty.admin.programs.tier_benefit_coupon_create", spy)
    url = f"/admin/loyalty/tier/{tier.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update(
        {
            "benefit_coupons-TOTAL_FORMS": "1",
            "benefit_coupons-0-definition": str(definition.pk),
            "benefit_coupons-0-on_enrolment": "on",
            "benefit_coupons-0-validity_days": "14",
            "benefit_coupons-0-is_active": "on",
        }
    )

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    assert calls == ["welcome-10"]
    benefit = TierBenefitCoupon.objects.get()
    assert (benefit.tier, benefit.on_enrolment, benefit.on_upgrade, benefit.validity_days, benefit.is_active) == (
        tier,
        True,
        False,
        14,
        True,
    )


def test_a_tier_benefit_is_switched_off_inline_on_the_tier_page_through_the_service(
    admin_client, definition, program, monkeypatch
):
    # given
    tier = program.tiers.get(rank=0)
    benefit = tier_benefit_coupon_create(tier=tier, definition=definition, on_enrolment=True)
    calls = []

    def spy(**kwargs):
        calls.append(sorted(kwargs))
        return tier_benefit_coupon_update(**kwargs)

    monkeypatch.setattr("loyalty.admin.programs.tier_benefit_coupon_update", spy)
    url = f"/admin/loyalty/tier/{tier.pk}/change/"
    page = admin_client.get(url)
    data = admin_form_data(page)
    assert data["benefit_coupons-0-is_active"] is True
    data["benefit_coupons-0-is_active"] = ""

    # when
    response = admin_client.post(url, data)

    # then
    assert 'name="benefit_coupons-0-is_active"' in page.content.decode()
    assert response.status_code == 302
    assert calls == [["benefit", "definition", "is_active", "on_enrolment", "on_upgrade", "tier", "validity_days"]]
    benefit.refresh_from_db()
    assert (benefit.is_active, benefit.on_enrolment, benefit.definition) == (False, True, definition)


def test_tier_benefits_list_shows_and_filters_by_active(admin_client, definition, program):
    # given
    member_tier = program.tiers.get(rank=0)
    gold = Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))
    active = tier_benefit_coupon_create(tier=member_tier, definition=definition)
    stopped = tier_benefit_coupon_create(tier=gold, definition=definition, is_active=False)

    # when
    inactive_only = admin_client.get("/admin/loyalty/tierbenefitcoupon/?is_active__exact=0")
    active_only = admin_client.get("/admin/loyalty/tierbenefitcoupon/?is_active__exact=1")

    # then
    assert [row.pk for row in inactive_only.context["cl"].result_list] == [stopped.pk]
    assert [row.pk for row in active_only.context["cl"].result_list] == [active.pk]
    assert "is_active" in inactive_only.context["cl"].list_display
    assert "column-is_active" in inactive_only.content.decode()


def test_a_tier_benefit_that_is_refused_on_the_form_is_not_switched_off(admin_client, definition, program):
    # given: the benefit's tier is no longer one the coupon is for (changed behind the service's back)
    gold = Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))
    entry = program.tiers.get(rank=0)
    benefit = tier_benefit_coupon_create(tier=entry, definition=definition)
    definition.eligible_tiers.set([gold])
    url = f"/admin/loyalty/tierbenefitcoupon/{benefit.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data["is_active"] = ""

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["definition"]
    benefit.refresh_from_db()
    assert benefit.is_active is True


def test_vouchers_are_filtered_by_origin(admin_client, definition, member):
    # given
    manual = _voucher(definition, "WELCOME-AAAA-BBBB", customer=member)
    batch = _voucher(definition, "WELCOME-CCCC-DDDD", origin=Voucher.Origin.BATCH)
    auto = _voucher(definition, "AUTO-WELCOME-EEEE", customer=member, origin=Voucher.Origin.AUTO_APPLY)

    # when
    pages = {
        origin: admin_client.get(f"{VOUCHERS_URL}?origin__exact={origin}")
        for origin in ("manual", "batch", "auto_apply", "tier_benefit")
    }
    page = admin_client.get(f"{VOUCHERS_URL}{auto.pk}/change/")

    # then
    shown = {origin: [row.pk for row in page_.context["cl"].result_list] for origin, page_ in pages.items()}
    assert shown == {"manual": [manual.pk], "batch": [batch.pk], "auto_apply": [auto.pk], "tier_benefit": []}
    assert "Auto-applied at the till" in page.content.decode()
