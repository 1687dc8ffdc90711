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


def test_missing_scope_answers_in_spanish_for_accept_language_es(make_api_client):
    # given
    http, _key = make_api_client("scan_and_go")

    # when
    response = http.get("/endpoint/sa/customers/C1", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")

    # then
    assert response.status_code == 403
    assert response.json() == {
        "errorCode": "FORBIDDEN",
        "errorMessage": "A esta clave de API le falta el permiso «clienteling».",
    }


def test_field_error_names_the_spi_field_in_french(pos_client):
    # when
    response = pos_client.post(
        "/endpoint/sa/customers",
        data='{"profile": {"lastName": "Hopper", "birthday": "2999-01-01"}}',
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "INVALID_FIELD",
        "errorMessage": "profile.birthday: Ne peut pas être dans le futur.",
    }
    assert Customer.objects.count() == 0
