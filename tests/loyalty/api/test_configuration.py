"""GET /api/v1/configuration: the default program's rules, tiers and rewards (our keys, and LoyaltyLion's
SiteConfiguration parts: channel, currency, language, tier_configuration, rules, rewards)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty.models import CouponDefinition, Program, Tier, TierBenefitCoupon
from tests.loyalty.factories import CouponDefinitionFactory

NOW = "2026-06-24T10:15:00+00:00"


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def reader(make_api_client):
    http, _key = make_api_client("loyalty:read")
    return http


def test_configuration_of_the_default_program(reader, program):
    # given
    Program.objects.filter(pk=program.pk).update(
        earn_rate=Decimal("2.5"), pending_days=14, points_expiry_days=365, tier_validity_days=730
    )
    Tier.objects.create(
        program=program,
        rank=1,
        code="silver",
        name="Silver",
        title="Silver member",
        subtitle="Shine",
        threshold=Decimal("1000"),
        renewal_threshold=Decimal("800"),
        earn_multiplier=Decimal("1.25"),
        benefits="Free shipping\n\n  Birthday gift  \n",
    )

    # when
    response = reader.get("/api/v1/configuration")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "channel": None,
        "currency": "usd",
        "language": "en",
        "program": {"code": "default", "name": "Loyalty program"},
        "earn_rate": 2.5,
        "rounding": "down",
        "basis": "transaction",
        "pending_days": 14,
        "points_expiry_days": 365,
        "burn_value": 0.01,
        "tier_qualification": "points",
        "tier_window_days": 365,
        "tier_validity_days": 730,
        "tiers": [
            {
                "code": "member",
                "name": "Member",
                "title": "Member",
                "subtitle": "Welcome",
                "rank": 0,
                "threshold": 0,
                "renewal_threshold": 0,
                "earn_multiplier": 1.0,
                "benefits": [],
            },
            {
                "code": "silver",
                "name": "Silver",
                "title": "Silver member",
                "subtitle": "Shine",
                "rank": 1,
                "threshold": 1000,
                "renewal_threshold": 800,
                "earn_multiplier": 1.25,
                "benefits": ["Free shipping", "Birthday gift"],
            },
        ],
        "tier_configuration": {
            "boundary_mode": "points",
            "tiers": [
                {
                    "id": "member",
                    "name": "Member",
                    "title": "Member",
                    "position": 1,
                    "hidden": False,
                    "kind": "points",
                    "lower_bound": 0,
                    "upper_bound": 1000,
                    "renewal_bound": 0,
                    "earn_multiplier": 1.0,
                    "benefit_ids": [],
                },
                {
                    "id": "silver",
                    "name": "Silver",
                    "title": "Silver member",
                    "position": 2,
                    "hidden": False,
                    "kind": "points",
                    "lower_bound": 1000,
                    "upper_bound": None,
                    "renewal_bound": 800,
                    "earn_multiplier": 1.25,
                    "benefit_ids": ["silver:1", "silver:2"],
                },
            ],
            "tier_benefits": [
                {"id": "silver:1", "label": "Free shipping", "secret": False, "details": None},
                {"id": "silver:2", "label": "Birthday gift", "secret": False, "details": None},
            ],
            "membership": {"mode": "rolling", "duration_days": 730, "qualifying_window_days": 365},
        },
        "rules": [
            {
                "id": "purchase",
                "kind": "purchase",
                "limit": None,
                "properties": {
                    "rounding": "down",
                    "basis": "transaction",
                    "excluded_products": [],
                    "pending_days": 14,
                    "points_expiry_days": 365,
                },
                "variants": [
                    {
                        "tier_id": "member",
                        "title": "Make a purchase",
                        "description": None,
                        "enabled": True,
                        "result": {"kind": "points", "points": 2.5, "per_currency_unit": 1.0},
                        "result_short_text": "2.5 points per USD 1",
                    },
                    {
                        "tier_id": "silver",
                        "title": "Make a purchase",
                        "description": None,
                        "enabled": True,
                        "result": {"kind": "points", "points": 3.125, "per_currency_unit": 1.0},
                        "result_short_text": "3.125 points per USD 1",
                    },
                ],
            }
        ],
        "rewards": [],
    }


def test_spend_program_thresholds_are_money_and_renewal_defaults_to_the_entry_threshold(reader, program):
    # given
    Program.objects.filter(pk=program.pk).update(tier_qualification=Program.TierQualification.SPEND)
    Tier.objects.create(program=program, rank=1, code="vip", name="VIP", threshold=Decimal("499.90"))

    # when
    response = reader.get("/api/v1/configuration")

    # then
    vip = response.json()["tiers"][1]
    assert response.json()["tier_qualification"] == "spend"
    assert (vip["threshold"], vip["renewal_threshold"]) == (499.9, 499.9)


def test_without_a_default_program_the_answer_is_503(reader, program):
    # given
    Program.objects.filter(pk=program.pk).update(is_default=False)

    # when
    response = reader.get("/api/v1/configuration")

    # then
    assert response.status_code == 503
    assert response.json() == {
        "message": "No default loyalty program is configured.",
        "code": "NO_DEFAULT_PROGRAM",
        "extra": {},
    }


def test_configuration_runs_a_fixed_number_of_queries(reader, program, django_assert_num_queries):
    # given
    tiers = [
        Tier.objects.create(program=program, rank=rank, code=f"t{rank}", name=f"T{rank}", threshold=rank * 100)
        for rank in range(1, 6)
    ]
    for number, tier in enumerate(tiers):
        coupon = _coupon(program, f"c{number}", eligible_tiers=tiers[number:])
        TierBenefitCoupon.objects.create(tier=tier, definition=coupon)
    reader.get("/api/v1/configuration")  # records the key's last use

    # when / then: the program, its tiers, its tier-benefit coupons, its coupons and their tiers (the API key is the
    # process's copy, crm/api_key_cache.py)
    with django_assert_num_queries(5):
        response = reader.get("/api/v1/configuration")
    assert len(response.json()["tiers"]) == 6
    assert [len(reward["tier_ids"]) for reward in response.json()["rewards"]] == [5, 4, 3, 2, 1]
    assert len(response.json()["tier_configuration"]["tier_benefits"]) == 5


@pytest.mark.parametrize("scopes", [(), ("clienteling",), ("loyalty:write",), ("privacy",)])
def test_key_without_loyalty_read_scope_is_403(make_api_client, scopes, db):
    # given
    http, _key = make_api_client(*scopes)

    # when
    response = http.get("/api/v1/configuration")

    # then
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the 'loyalty:read' scope."


def _coupon(program, code, **fields):
    fields.setdefault("kind", CouponDefinition.Kind.AMOUNT)
    fields.setdefault("value", Decimal("5"))
    return CouponDefinitionFactory(program=program, code=code, name=code.title(), **fields)


@pytest.fixture
def rewards(program):
    gold = Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=5000)
    _coupon(program, "web-only", channels=["web"], min_basket=Decimal("20"), limit_per_customer=1, limit_total=500)
    _coupon(program, "pos-only", channels=["pos"], auto_apply=True, eligible_tiers=[gold])
    _coupon(program, "scan-only", channels=["scan_and_go"])
    _coupon(program, "ended", valid_until=datetime(2026, 6, 1, tzinfo=UTC))
    _coupon(program, "paused", is_active=False)
    _coupon(
        program,
        "summer",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("15"),
        valid_from=datetime(2026, 7, 1, tzinfo=UTC),
        valid_until=datetime(2026, 9, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("query", "headers", "channel", "expected"),
    [
        ("", {}, None, ["pos-only", "scan-only", "summer", "web-only"]),
        ("?channel=web", {}, "web", ["summer", "web-only"]),
        ("?channel=mobile", {}, "mobile", ["summer", "web-only"]),
        ("", {"HTTP_X_CHANNEL": "pos"}, "pos", ["pos-only", "summer"]),
        ("", {"HTTP_X_LOYALTYLION_CHANNEL": "pos"}, "pos", ["pos-only", "summer"]),
    ],
)
def test_rewards_are_the_active_coupons_not_ended_offered_on_the_channel(
    reader, rewards, query, headers, channel, expected
):
    # when
    response = reader.get("/api/v1/configuration" + query, **headers)

    # then
    assert response.status_code == 200
    assert response.json()["channel"] == channel
    assert [reward["id"] for reward in response.json()["rewards"]] == expected


def test_a_reward_carries_its_terms(reader, rewards):
    # when
    body = reader.get("/api/v1/configuration?channel=pos").json()

    # then
    assert body["rewards"] == [
        {
            "id": "pos-only",
            "kind": "amount",
            "title": "Pos-Only",
            "description": "",
            "value": 5.0,
            "product_id": "",
            "minimum_spend": 0.0,
            "auto_apply": True,
            "channels": ["pos"],
            "valid_from": None,
            "valid_until": None,
            "limit": {"per_customer": None, "total": None},
            "tier_ids": ["gold"],
        },
        {
            "id": "summer",
            "kind": "percent",
            "title": "Summer",
            "description": "",
            "value": 15.0,
            "product_id": "",
            "minimum_spend": 0.0,
            "auto_apply": False,
            "channels": ["pos", "scan_and_go", "web"],
            "valid_from": "2026-07-01T00:00:00Z",
            "valid_until": "2026-09-01T00:00:00Z",
            "limit": {"per_customer": None, "total": None},
            "tier_ids": [],
        },
    ]
    web_only = reader.get("/api/v1/configuration?channel=web").json()["rewards"][1]
    assert (web_only["minimum_spend"], web_only["limit"]) == (20.0, {"per_customer": 1, "total": 500})


def test_coupons_given_as_tier_benefits_are_tier_benefits(reader, program):
    # given
    silver = Tier.objects.create(
        program=program, rank=1, code="silver", name="Silver", threshold=1000, benefits="Lounge"
    )
    gift = _coupon(program, "silver-gift", description="A mug, on us")
    TierBenefitCoupon.objects.create(tier=silver, definition=gift, on_upgrade=True)

    # when
    tier_configuration = reader.get("/api/v1/configuration").json()["tier_configuration"]

    # then
    assert tier_configuration["tiers"][1]["benefit_ids"] == ["silver:1", "silver:coupon:silver-gift"]
    assert tier_configuration["tier_benefits"] == [
        {"id": "silver:1", "label": "Lounge", "secret": False, "details": None},
        {
            "id": "silver:coupon:silver-gift",
            "label": "Silver-Gift",
            "secret": False,
            "details": {"plaintext": "A mug, on us"},
        },
    ]


def test_without_tiers_tier_configuration_is_null_and_the_rule_has_one_variant(reader, program):
    # given
    Tier.objects.filter(program=program).delete()
    Program.objects.filter(pk=program.pk).update(earn_rate=Decimal("1"))

    # when
    body = reader.get("/api/v1/configuration").json()

    # then
    assert (body["tiers"], body["tier_configuration"]) == ([], None)
    assert body["rules"][0]["variants"] == [
        {
            "tier_id": None,
            "title": "Make a purchase",
            "description": None,
            "enabled": True,
            "result": {"kind": "points", "points": 1.0, "per_currency_unit": 1.0},
            "result_short_text": "1 point per USD 1",
        }
    ]


@pytest.mark.parametrize(
    ("query", "headers", "language"),
    [("?language=de", {}, "de"), ("?language=fr-CA", {}, "fr"), ("", {"HTTP_X_LANGUAGE": "es"}, "es"), ("", {}, "en")],
)
def test_the_language_asked_for_is_answered(reader, query, headers, language):
    # when
    response = reader.get("/api/v1/configuration" + query, **headers)

    # then
    assert response.json()["language"] == language


def test_without_a_language_the_programs_default_is_answered(reader, program):
    # given
    Program.objects.filter(pk=program.pk).update(default_language="de-DE")

    # when / then
    assert reader.get("/api/v1/configuration").json()["language"] == "de"


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        ("?channel=store", {}, 'channel: "store" is not a valid choice.'),
        ("?channel=scan_and_go", {}, 'channel: "scan_and_go" is not a valid choice.'),
        (
            "?channel=web",
            {"HTTP_X_CHANNEL": "pos"},
            "channel: The query parameter and the header disagree: ['pos', 'web'].",
        ),
        ("?language=pt", {}, 'language: "pt" is not a language we speak; expected one of en, de, fr, es.'),
    ],
)
def test_an_unknown_channel_or_language_is_400_naming_it(reader, query, headers, message):
    # when
    response = reader.get("/api/v1/configuration" + query, **headers)

    # then
    assert response.status_code == 400
    assert response.json()["message"] == message
