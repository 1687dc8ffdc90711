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


def test_docs_describe_every_catalogue_type_as_the_catalogue_does():
    # when
    described = dict(re.findall(r"### `([a-z_.]+)`\n\n(.*?)\n\n```json", DOCS, re.S))

    # then
    assert {name: described.get(name) for name in CATALOGUE} == {
        name: event_type.description for name, event_type in CATALOGUE.items()
    }


def test_coupon_claimed_carries_the_fields_of_antavos_voucher_claimed():
    # then: Antavo's "Webhook example" (seeds/003), with our customerId kept beside its consentGuid
    example = CATALOGUE["coupon.claimed"].example_data
    assert list(example) == [
        "consentGuid",
        "customerId",
        "voucherCode",
        "voucherStatus",
        "voucherType",
        "value",
        "voucherName",
        "expiresAt",
        "createdAt",
        "claimedAt",
        "eventName",
    ]
    assert (example["consentGuid"], example["customerId"], example["eventName"]) == (
        "C000000000001",
        "C000000000001",
        "voucher_claimed",
    )


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
