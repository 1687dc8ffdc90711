import pytest

from crm.services.context import ChangeContext
from loyalty.models import Program
from loyalty.services.enrolment import loyalty_account_enroll


@pytest.fixture
def program(db):
    return Program.objects.get(is_default=True)


@pytest.fixture
def enrolled_account(customer_factory, program):
    """enrolled_account() -> a fresh account in the default program (entry tier, no points)."""

    def make(**program_changes):
        if program_changes:
            Program.objects.filter(pk=program.pk).update(**program_changes)
        return loyalty_account_enroll(customer=customer_factory(), context=ChangeContext())

    return make
