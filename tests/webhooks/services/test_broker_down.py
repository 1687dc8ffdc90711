import json

import pytest
from kombu.exceptions import OperationalError

from crm.models import Customer
from webhooks.models import WebhookEvent


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_does_not_fail_a_committed_change(pos_client, monkeypatch):
    # given: the broker refuses every message (the beat sweeper sends the work later)
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("celery.app.task.Task.apply_async", broker_down)
    body = {"profile": {"firstName": "Ada", "lastName": "Lovelace"}, "consents": {"loyaltySignUp": True}}

    # when
    response = pos_client.post("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")

    # then
    assert response.status_code == 200
    assert Customer.objects.count() == 1
    assert list(WebhookEvent.objects.order_by("id").values_list("type", "fanned_out_at")) == [
        ("customer.created", None),
        ("loyalty.enrolled", None),
    ]
