import json

import pytest
import time_machine

from tests.clienteling.golden import assert_matches_golden, load

NOW = "2026-11-22T10:00:00+00:00"
GOLDEN = [
    "create_customer",
    "scenario1_signup_with_loyalty",
    "scenario2_checkout_address_saved",
    "scenario3_profile_address_edited",
    "get_customer",
    "search_customers",
    "get_customer_unknown",
]


def _call(http, payload):
    body = json.dumps(payload["request"]) if payload["request"] is not None else None
    method = getattr(http, payload["method"].lower())
    if body is None:
        return method(payload["path"])
    return method(payload["path"], data=body, content_type="application/json")


@pytest.mark.parametrize("name", GOLDEN)
@pytest.mark.usefixtures("deterministic_ids")
def test_spi_payload_matches_golden_file(name, pos_client):
    # given
    payload = load(name)
    with time_machine.travel(NOW, tick=False):
        if payload.get("given"):
            setup = _call(pos_client, load(payload["given"]))
            assert setup.status_code == 200

        # when
        response = _call(pos_client, payload)

    # then
    body = response.json() if response.content else None
    assert_matches_golden(name, response.status_code, body)
