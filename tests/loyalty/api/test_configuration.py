"""GET /api/v1/configuration: the default program's rules and tiers."""

from decimal import Decimal

import pytest

from loyalty.models import Program, Tier


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
        "program": {"code": "default", "name": "Loyalty program"},
        "currency": "USD",
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
    for rank in range(1, 6):
        Tier.objects.create(program=program, rank=rank, code=f"t{rank}", name=f"T{rank}", threshold=rank * 100)
    reader.get("/api/v1/configuration")  # records the key's last use

    # when / then: the API key, the program, its tiers
    with django_assert_num_queries(3):
        response = reader.get("/api/v1/configuration")
    assert len(response.json()["tiers"]) == 6


@pytest.mark.parametrize("scopes", [(), ("clienteling",), ("loyalty:write",), ("privacy",)])
def test_key_without_loyalty_read_scope_is_403(make_api_client, scopes, db):
    # given
    http, _key = make_api_client(*scopes)

    # when
    response = http.get("/api/v1/configuration")

    # then
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the 'loyalty:read' scope."
