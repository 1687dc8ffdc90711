import json
from datetime import datetime
from decimal import Decimal

import pytest
import time_machine

from crm.models import Customer
from loyalty.models import Program
from loyalty.services.vouchers import voucher_cancel, voucher_claim
from tests.clienteling.golden import assert_matches_golden, load
from tests.loyalty.factories import CouponDefinitionFactory, VoucherFactory

NOW = "2026-11-22T10:00:00+00:00"
GOLDEN = [
    "create_customer",
    "scenario1_signup_with_loyalty",
    "scenario2_checkout_address_saved",
    "scenario3_profile_address_edited",
    "get_customer",
    "get_customer_with_coupons",
    "search_customers",
    "get_customer_unknown",
    "signup_with_pos_loyalty_id",
    "signup_with_loyalty_id_in_use",
    "update_loyalty_sign_up_withdrawn",
]
VOUCHER_STEPS = {"claim": voucher_claim, "cancel": voucher_cancel}


def _call(http, payload):
    body = json.dumps(payload["request"]) if payload["request"] is not None else None
    method = getattr(http, payload["method"].lower())
    if body is None:
        return method(payload["path"])
    return method(payload["path"], data=body, content_type="application/json")


def _moment(value):
    return datetime.fromisoformat(value) if value else None


def _give_coupons(specs):
    """`given_coupons`: per entry a coupon of the default program and one voucher of it, issued to `customer` at
    `issued_at` (expiring at `expires_at`, by default when the coupon ends), then claimed or cancelled."""
    program = Program.objects.get(is_default=True)
    for spec in specs:
        coupon = dict(spec["coupon"])
        coupon["value"] = Decimal(coupon.get("value", "0"))
        definition = CouponDefinitionFactory(program=program, **coupon)
        issued_at = _moment(spec["issued_at"])
        customer = Customer.objects.get(public_id=spec["customer"])
        voucher = VoucherFactory(
            definition=definition, customer=customer, expires_at=_moment(spec.get("expires_at")), now=issued_at
        )
        for step in spec.get("then", []):
            arguments = {"customer": customer} if step == "claim" else {}
            VOUCHER_STEPS[step](code=voucher.code, now=issued_at, **arguments)


@pytest.mark.parametrize("name", GOLDEN)
@pytest.mark.usefixtures("deterministic_ids")
def test_spi_payload_matches_golden_file(name, pos_client):
    # given
    payload = load(name)
    with time_machine.travel(NOW, tick=False):
        if payload.get("given"):
            setup = _call(pos_client, load(payload["given"]))
            assert setup.status_code == 200
        _give_coupons(payload.get("given_coupons", []))

        # when
        response = _call(pos_client, payload)

    # then
    body = response.json() if response.content else None
    assert_matches_golden(name, response.status_code, body)
