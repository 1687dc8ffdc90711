from crm.models import Customer


def test_empty_search_answers_in_german_for_accept_language_de(pos_client):
    # when
    response = pos_client.get("/endpoint/sa/customers", HTTP_ACCEPT_LANGUAGE="de")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "EMPTY_SEARCH",
        "errorMessage": (
            "Geben Sie mindestens ein Suchkriterium an: Name, E-Mail, Telefon, Kundenkartennummer, Postleitzahl "
            "oder Kunden-ID."
        ),
    }
    assert response["Content-Language"] == "de"


def test_empty_search_answers_in_french_for_accept_language_fr(pos_client):
    # when
    response = pos_client.get("/endpoint/sa/customers", HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9, en;q=0.5")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "EMPTY_SEARCH",
        # French puts a no-break space before a colon.
        "errorMessage": (
            "Indiquez au moins un critère de recherche\u00a0: nom, e-mail, téléphone, numéro de fidélité, code postal "
            "ou identifiant client."
        ),
    }


def test_empty_search_answers_in_english_for_a_language_without_translation(pos_client):
    # when
    response = pos_client.get("/endpoint/sa/customers", HTTP_ACCEPT_LANGUAGE="ja")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "EMPTY_SEARCH",
        "errorMessage": (
            "Give at least one search criterion: name, email, phone, loyalty id, postal code or customer id."
        ),
    }
    assert response["Content-Language"] == "en"


def test_unknown_customer_answers_in_german_for_accept_language_de(pos_client):
    # when
    response = pos_client.get("/endpoint/sa/customers/UNKNOWN", HTTP_ACCEPT_LANGUAGE="de")

    # then
    assert response.status_code == 404
    assert response.json() == {"errorCode": "CUSTOMER_NOT_FOUND", "errorMessage": "Kunde nicht gefunden."}
    assert Customer.objects.count() == 0
