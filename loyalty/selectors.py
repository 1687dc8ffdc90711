from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import LoyaltyAccount, Program


def program_get_default() -> Program:
    """Raises NO_DEFAULT_PROGRAM (503) when marketing has not marked a program as the default."""
    program = Program.objects.filter(is_default=True, is_active=True).first()
    if program is None:
        raise ApplicationError(
            _("No default loyalty program is configured."), code=LoyaltyErrorCode.NO_DEFAULT_PROGRAM, status=503
        )
    return program


def loyalty_accounts_prefetch() -> Prefetch:
    """Prefetch of each customer's accounts, default program first, for `customer.loyalty_accounts_prefetched`."""
    accounts = LoyaltyAccount.objects.select_related("program", "tier", "address").order_by(
        "-program__is_default", "created_at", "id"
    )
    return Prefetch("loyalty_accounts", queryset=accounts, to_attr="loyalty_accounts_prefetched")


def customer_pks_by_loyalty_id(*, loyalty_id: str) -> QuerySet:
    """Customer pks whose loyalty account number is this value (spaces and dashes ignored), as a subquery."""
    normalised = "".join(char for char in loyalty_id if char not in " -")
    return LoyaltyAccount.objects.filter(account_number=normalised).order_by().values("customer_id")
