"""The customer admin's search box finds a customer by a loyalty card number too (the loyalty admin resolves it with
loyalty.selectors.accounts.customer_pks_by_loyalty_id, which matches account numbers and card numbers)."""

from loyalty.services.cards import card_block, card_issue

CUSTOMERS_URL = "/admin/crm/customer/"


def _search(admin_client, term: str) -> list[str]:
    response = admin_client.get(CUSTOMERS_URL, {"q": term})
    assert response.status_code == 200
    return [customer.public_id for customer in response.context["cl"].result_list]


def test_search_finds_the_holder_of_a_card_typed_in_any_format(admin_client, customer_factory, loyalty_account_factory):
    # given
    holder = customer_factory(first_name="Ada", last_name="Lovelace")
    account = loyalty_account_factory(customer=holder)
    loyalty_account_factory()
    card_issue(account=account, number="7700 1234-56ab")

    # when
    typed_as_printed = _search(admin_client, "7700 1234-56ab")
    typed_compact = _search(admin_client, "7700123456AB")

    # then
    assert typed_as_printed == [holder.public_id]
    assert typed_compact == [holder.public_id]


def test_search_finds_the_holder_of_a_blocked_card(admin_client, customer_factory, loyalty_account_factory):
    # given: a lost card still names its holder for the store manager
    holder = customer_factory()
    account = loyalty_account_factory(customer=holder)
    card_block(card=card_issue(account=account, number="770012345678"), status="lost")

    # when
    found = _search(admin_client, "770012345678")

    # then
    assert found == [holder.public_id]


def test_search_by_an_unknown_card_number_finds_nobody(admin_client, loyalty_account_factory):
    # given
    account = loyalty_account_factory()
    card_issue(account=account, number="770012345678")

    # when
    found = _search(admin_client, "770012345679")

    # then
    assert found == []
