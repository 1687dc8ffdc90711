"""Card numbers a POS hands out (issue 13): enrolment numbered after the card, a card given to an existing account,
the program's choice to accept or refuse them, and its check digit; without HTTP."""

import pytest

from core.exceptions import ApplicationError
from crm.services.context import ChangeContext
from loyalty.models import Card, LoyaltyAccount, Program
from loyalty.services.cards import card_issue
from loyalty.services.enrolment import loyalty_account_enrol, loyalty_card_from_pos_give


def _program(**changes) -> Program:
    program = Program.objects.get(is_default=True)
    for name, value in changes.items():
        setattr(program, name, value)
    program.save()
    return program


def _error(call, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ApplicationError) as raised:
        call(**kwargs)
    return raised.value.code, raised.value.status, raised.value.extra.get("field")


def test_enrolment_with_a_card_number_numbers_the_account_after_it(customer_factory):
    # when
    account = loyalty_account_enrol(customer=customer_factory(), context=ChangeContext(), card_number="0400-0000 0099")

    # then: the account number keeps the leading zero; the card's lookup form drops it (the program's default)
    assert account.account_number == "040000000099"
    assert list(account.cards.values_list("number", "normalised_number", "kind")) == [
        ("0400-0000 0099", "40000000099", "physical")
    ]


def test_enrolment_with_a_taken_card_number_is_in_use_and_writes_nothing(customer_factory, enrolled_account):
    # given
    holder = enrolled_account()
    card_issue(account=holder, number="400000000099")
    customer = customer_factory()

    # when
    error = _error(loyalty_account_enrol, customer=customer, context=ChangeContext(), card_number="4000 0000 0099")

    # then
    assert error == ("LOYALTY_ID_ALREADY_IN_USE", 409, "loyalty_id")
    assert not LoyaltyAccount.objects.filter(customer=customer).exists()


def test_a_program_that_refuses_pos_numbers_refuses_them_at_enrolment(customer_factory):
    # given
    _program(pos_card_numbers=Program.PosCardNumbers.REFUSE)
    customer = customer_factory()

    # when
    error = _error(loyalty_account_enrol, customer=customer, context=ChangeContext(), card_number="400000000099")

    # then
    assert error == ("LOYALTY_ID_NOT_ACCEPTED", 422, "loyalty_id")
    assert not LoyaltyAccount.objects.filter(customer=customer).exists()


def test_a_new_number_for_an_account_is_one_more_card_and_its_own_number_is_nothing(enrolled_account):
    # given
    account = enrolled_account()

    # when
    loyalty_card_from_pos_give(account=account, card_number="7700-12")
    loyalty_card_from_pos_give(account=account, card_number="770012")
    loyalty_card_from_pos_give(account=account, card_number=account.account_number)

    # then
    assert sorted(account.cards.values_list("normalised_number", "kind")) == sorted(
        [("770012", "physical"), (account.account_number, "digital")]
    )
    assert LoyaltyAccount.objects.get(pk=account.pk).account_number == account.account_number


def test_a_check_digit_program_refuses_a_wrong_digit_at_the_pos_and_in_the_back_office(enrolled_account):
    # given
    account = enrolled_account()
    _program(card_number_check_digit=Program.CheckDigit.LUHN)
    account.refresh_from_db()
    before = Card.objects.count()

    # when
    pos = _error(loyalty_card_from_pos_give, account=account, card_number="400000000099")
    back_office = _error(card_issue, account=account, number="400000000099")
    card_issue(account=account, number="400000000093")

    # then
    assert pos == ("INVALID_CARD_NUMBER", 400, "loyalty_id")
    assert back_office == ("INVALID_CARD_NUMBER", 400, "number")
    assert Card.objects.count() == before + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_tills_keying_in_one_card_at_once_give_it_to_one_customer(on_postgres, customer_factory):
    # given
    from tests.loyalty.services.concurrency import in_threads

    customers = [customer_factory(email=f"shopper{index}@example.com") for index in range(6)]

    # when
    results = in_threads(
        6,
        lambda index: loyalty_account_enrol(
            customer=customers[index], context=ChangeContext(), card_number="400000000099"
        ),
    )

    # then
    assert sorted(results, key=str) == [("LOYALTY_ID_ALREADY_IN_USE", 409)] * 5 + ["ok"]
    assert list(Card.objects.values_list("normalised_number", flat=True)) == ["400000000099"]
    assert LoyaltyAccount.objects.count() == 1
