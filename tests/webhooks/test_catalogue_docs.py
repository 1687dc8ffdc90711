"""docs/webhooks.md shows the catalogue's examples, and its example request verifies with the reference library."""

import json
import re
from pathlib import Path

import time_machine
from standardwebhooks import Webhook

from webhooks.catalogue import CATALOGUE

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()


def test_docs_show_every_catalogue_type_with_its_example():
    # when
    documented = {
        name: json.loads(block) for name, block in re.findall(r"### `([a-z_.]+)`\n\n.*?```json\n(.*?)\n```", DOCS, re.S)
    }

    # then
    assert list(documented) == list(CATALOGUE)
    for name, envelope in documented.items():
        assert list(envelope) == ["id", "type", "created_at", "entity", "data"]
        assert (envelope["type"], envelope["entity"], envelope["data"]) == (
            name,
            CATALOGUE[name].example_entity,
            CATALOGUE[name].example_data,
        )


def test_erasure_carries_no_personal_data():
    # then
    assert CATALOGUE["customer.erased"].example_data == {
        "customer": {"id": "C000000000001", "status": "erased"},
        "erased_at": "2026-03-03T08:00:00Z",
    }


def test_coupon_claimed_carries_the_fields_of_antavos_voucher_claimed():
    # then
    assert list(CATALOGUE["coupon.claimed"].example_data) == [
        "customerId",
        "voucherCode",
        "voucherStatus",
        "voucherType",
        "value",
        "voucherName",
        "expiresAt",
        "createdAt",
        "claimedAt",
    ]


def test_the_example_request_in_the_docs_verifies():
    # given
    request = re.search(r"```http\n(.*?)\n\n(.*?)\n```", DOCS, re.S)
    headers = dict(line.split(": ", 1) for line in request.group(1).splitlines()[1:])
    secret = re.search(r"with the secret `(whsec_[^`]+)`", DOCS).group(1)

    # when
    with time_machine.travel(int(headers["webhook-timestamp"]), tick=False):
        payload = Webhook(secret).verify(request.group(2), headers)

    # then
    assert (payload["id"], payload["type"]) == (headers["webhook-id"], "webhook.ping")
