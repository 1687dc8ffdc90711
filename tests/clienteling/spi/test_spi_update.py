import json

import time_machine

from crm.models import ConsentChange, Store


def _put(http, body):
    return http.put("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")


def _sign_up(http, **consents):
    body = {
        "profile": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@example.com",
            "phoneMobile": "2175550100",
            "birthday": "1980-12-10",
            "address": {"addressLine1": "1 Main St", "city": "Springfield", "postalCode": "62701", "countryCode": "US"},
        },
        "consents": {"agreeToTC": True, "smsSignUp": False, "loyaltySignUp": True, **consents},
    }
    response = http.post("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    return response.json()["customer"]


def test_sending_only_sms_consent_changes_nothing_else(pos_client):
    # given
    with time_machine.travel("2026-11-01T09:00:00+00:00", tick=False):
        before = _sign_up(pos_client)
    customer_id = before["profile"]["customerId"]

    # when
    with time_machine.travel("2026-11-02T09:00:00+00:00", tick=False):
        response = _put(
            pos_client,
            {
                "profile": {"customerId": customer_id},
                "consents": {"smsSignUp": True},
                "storeAttribution": {"storeId": "S7"},
            },
        )

    # then
    assert response.status_code == 200
    after = response.json()["customer"]
    expected = json.loads(json.dumps(before))
    expected["consents"]["smsSignUp"] = True
    expected["profile"]["lastModifiedDate"] = after["profile"]["lastModifiedDate"]
    assert after == expected
    change = ConsentChange.objects.get(consent="sms_sign_up", new_value=True)
    assert (change.previous_value, change.channel, change.store.code) == (False, "pos", "S7")
    assert pos_client.get(f"/endpoint/sa/customers/{customer_id}").json()["customer"] == after


def test_consents_merge_key_by_key_and_history_keeps_each_change(pos_client):
    # given
    customer_id = _sign_up(pos_client)["profile"]["customerId"]

    # when
    _put(pos_client, {"profile": {"customerId": customer_id}, "consents": {"newsLetterSignUp": True}})
    response = _put(
        pos_client, {"profile": {"customerId": customer_id}, "consents": {"agreeToTC": True, "eReceipt": False}}
    )

    # then
    assert response.json()["customer"]["consents"] == {
        "agreeToTC": True,
        "eReceipt": False,
        "loyaltySignUp": True,
        "newsLetterSignUp": True,
        "smsSignUp": False,
    }
    history = list(ConsentChange.objects.order_by("id").values_list("consent", "previous_value", "new_value"))
    assert history == [
        ("agree_to_tc", None, True),
        ("loyalty_sign_up", None, True),
        ("sms_sign_up", None, False),
        ("news_letter_sign_up", None, True),
        ("e_receipt", None, False),
    ]


def test_same_address_twice_is_not_appended_again(pos_client):
    # given
    customer_id = _sign_up(pos_client)["profile"]["customerId"]
    same_address_other_spelling = {
        "addressLine1": " 1 main st ",
        "city": "SPRINGFIELD",
        "postalCode": "627 01",
        "countryCode": "us",
    }

    # when
    response = _put(pos_client, {"profile": {"customerId": customer_id}, "addressList": [same_address_other_spelling]})

    # then
    assert len(response.json()["customer"]["addressList"]) == 1


def test_wrapped_and_bare_bodies_are_both_accepted(pos_client):
    # given
    customer_id = _sign_up(pos_client)["profile"]["customerId"]

    # when
    bare = _put(pos_client, {"profile": {"customerId": customer_id, "gender": "female"}})
    wrapped = _put(pos_client, {"customer": {"profile": {"customerId": customer_id, "salutation": "Ms"}}})

    # then
    assert bare.json()["customer"]["profile"]["gender"] == "female"
    assert wrapped.json()["customer"]["profile"]["gender"] == "female"
    assert wrapped.json()["customer"]["profile"]["salutation"] == "Ms"


def test_the_customer_id_may_travel_in_the_query(pos_client):
    # given
    customer_id = _sign_up(pos_client)["profile"]["customerId"]

    # when
    response = pos_client.put(
        f"/endpoint/sa/customers?customerId={customer_id}",
        data=json.dumps({"profile": {"gender": "female"}}),
        content_type="application/json",
    )

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["profile"]["gender"] == "female"


def test_null_clears_an_optional_field_and_is_then_omitted(pos_client):
    # given
    customer_id = _sign_up(pos_client)["profile"]["customerId"]

    # when
    response = _put(pos_client, {"profile": {"customerId": customer_id, "birthday": None, "phoneMobile": ""}})

    # then
    profile = response.json()["customer"]["profile"]
    assert "birthday" not in profile
    assert "phoneMobile" not in profile
    assert profile["firstName"] == "Ada"


def test_loyalty_consent_on_update_enrols_once(pos_client):
    # given
    customer = _sign_up(pos_client, loyaltySignUp=False)
    assert "loyaltyProfile" not in customer

    # when
    first = _put(
        pos_client, {"profile": {"customerId": customer["profile"]["customerId"]}, "consents": {"loyaltySignUp": True}}
    )
    second = _put(
        pos_client, {"profile": {"customerId": customer["profile"]["customerId"]}, "consents": {"loyaltySignUp": True}}
    )

    # then
    account_number = first.json()["customer"]["loyaltyProfile"]["accountNumber"]
    assert second.json()["customer"]["loyaltyProfile"]["accountNumber"] == account_number
    assert first.json()["customer"]["profile"]["loyaltyId"] == account_number
    assert first.json()["customer"]["loyaltyProfile"]["address"]["addressLine1"] == "1 Main St"


def test_unknown_store_is_recorded_on_first_sight(pos_client):
    # when
    response = pos_client.post(
        "/endpoint/sa/customers",
        data=json.dumps(
            {"profile": {"lastName": "Hopper"}, "storeAttribution": {"storeId": "NYC-5", "associateId": "J1"}}
        ),
        content_type="application/json",
    )

    # then
    assert response.json()["customer"]["storeAttribution"] == {"storeId": "NYC-5", "associateId": "J1"}
    assert list(Store.objects.values_list("code", flat=True)) == ["NYC-5"]
