import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.exceptions import ApplicationError
from crm.services.context import ChangeContext
from loyalty.account_numbers import generate_account_number, is_valid_account_number, luhn_check_digit
from loyalty.models import LoyaltyAccount, Program


def test_account_numbers_are_twelve_digits_with_a_valid_check_digit():
    numbers = {generate_account_number() for _ in range(1000)}
    assert len(numbers) == 1000
    assert all(len(number) == 12 and number[0] != "0" and is_valid_account_number(number) for number in numbers)


@given(
    st.text(alphabet="0123456789", min_size=5, max_size=15), st.integers(min_value=0, max_value=14), st.integers(1, 9)
)
def test_luhn_catches_every_single_digit_typo(body, position, delta):
    number = body + luhn_check_digit(body)
    position %= len(number)
    typo = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not is_valid_account_number(typo)


def test_known_luhn_check_digit():
    assert luhn_check_digit("7992739871") == "3"


def test_enrolment_uses_default_program_entry_tier_and_profile_address(
    customer_factory, address_factory, store_factory
):
    # given
    from loyalty.services.enrolment import loyalty_account_enrol

    customer = customer_factory()
    customer.profile_address = address_factory(customer=customer)
    customer.save()
    store = store_factory(code="S1")

    # when
    account = loyalty_account_enrol(customer=customer, context=ChangeContext(store=store))

    # then
    assert account.program == Program.objects.get(code="default")
    assert (account.tier.code, account.state, account.points_balance) == ("member", "enrolled", 0)
    assert account.address == customer.profile_address
    assert account.enrolled_store == store
    assert is_valid_account_number(account.account_number)


def test_enrolling_twice_returns_the_same_account(customer_factory):
    # given
    from loyalty.services.enrolment import loyalty_account_enrol

    customer = customer_factory()
    first = loyalty_account_enrol(customer=customer, context=ChangeContext())

    # when
    second = loyalty_account_enrol(customer=customer, context=ChangeContext())

    # then
    assert second.pk == first.pk
    assert LoyaltyAccount.objects.count() == 1


def test_account_number_collision_is_retried(customer_factory, monkeypatch):
    # given
    from loyalty.services import enrolment

    taken = enrolment.loyalty_account_enrol(customer=customer_factory(), context=ChangeContext()).account_number
    numbers = iter([taken, taken, "500000000017"])
    monkeypatch.setattr(enrolment, "generate_account_number", lambda: next(numbers))

    # when
    account = enrolment.loyalty_account_enrol(customer=customer_factory(), context=ChangeContext())

    # then
    assert account.account_number == "500000000017"
    assert LoyaltyAccount.objects.count() == 2


def test_gives_up_after_repeated_collisions(customer_factory, monkeypatch):
    # given
    from loyalty.services import enrolment

    taken = enrolment.loyalty_account_enrol(customer=customer_factory(), context=ChangeContext()).account_number
    monkeypatch.setattr(enrolment, "generate_account_number", lambda: taken)

    # when
    with pytest.raises(ApplicationError) as error:
        enrolment.loyalty_account_enrol(customer=customer_factory(), context=ChangeContext())

    # then
    assert (error.value.code, error.value.status) == ("ACCOUNT_NUMBER_EXHAUSTED", 503)
    assert LoyaltyAccount.objects.count() == 1


def test_without_a_default_program_enrolment_is_refused(customer_factory):
    # given
    from loyalty.services.enrolment import loyalty_account_enrol

    Program.objects.update(is_default=False)

    # when
    with pytest.raises(ApplicationError) as error:
        loyalty_account_enrol(customer=customer_factory(), context=ChangeContext())

    # then
    assert (error.value.code, error.value.status) == ("NO_DEFAULT_PROGRAM", 503)
