import json

from core.models import IdempotencyRecord
from loyalty.models import Purchase


def _event(http, body, **headers):
    return http.post("/api/v1/events", data=json.dumps(body), content_type="application/json", **headers)


def test_erasure_removes_personal_data_from_stored_event_responses(make_api_client, customer_factory):
    # given
    http, _key = make_api_client("loyalty:read", "loyalty:write", "privacy")
    customer = customer_factory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    assert _event(http, {"customer": customer.public_id, "action": "opt_in", "data": {}}).status_code == 200
    checkout = {"customer": customer.public_id, "action": "checkout", "data": {"transaction_id": "T1", "total": 40}}
    assert _event(http, checkout).status_code == 200
    add = {"customer": customer.public_id, "action": "point_add", "data": {"points": 5}}
    assert _event(http, add, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 200
    assert IdempotencyRecord.objects.count() == 1

    # when
    response = http.post(f"/api/v1/customers/{customer.public_id}/erase")

    # then
    assert response.status_code == 200
    stored = json.dumps(Purchase.objects.get(transaction_id="T1").first_response)
    for personal in ("Ada", "Lovelace", "ada@example.com"):
        assert personal not in stored
    assert IdempotencyRecord.objects.count() == 0
    assert _event(http, checkout).status_code == 410
