"""The top of the customer admin page: who this customer is, at a glance, for an associate with the customer in
front of them. Name and status, tier with the progress to the next, points spendable, pending and expiring soon,
member since, home store, consents as badges, the latest purchases, usable vouchers and lifetime value, with
"Adjust points", "Issue a voucher" and "Erase personal data" one click away. The edit form follows below it.

Shown through the customer page's loyalty extension (customers.py, CustomerPageExtension.summary). Everything is
read through the loyalty selectors the customer 360 API uses, so the page and the app agree; a fixed number of
queries whatever the history (the default program's account only: the panels below show every program).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from crm.admin import CustomerPagePanel
from crm.models import CONSENT_NAMES, Consents, Customer
from loyalty.admin.common import quantity_text
from loyalty.admin.customer_panel import customer_page_accounts, customer_page_overview, customer_page_purchases
from loyalty.models import LoyaltyAccount, Program, Purchase
from loyalty.selectors.accounts import CustomerOverview
from loyalty.selectors.coupons import customer_vouchers_usable_now

TEMPLATE_NAME = "admin/loyalty/customer_glance.html"
# "Expiring soon": what the customer should spend before their next visits.
EXPIRING_SOON_DAYS = 30
PURCHASES_SHOWN = 3
CONSENT_LABELS = {field.name: capfirst(str(field.verbose_name)) for field in Consents._meta.fields}
VOUCHERS_SHOWN = 3


@dataclass(frozen=True)
class TierProgress:
    next_tier: str
    text: str  # "350 points to Gold (1,000 points)"
    percent: int


@dataclass(frozen=True)
class ConsentBadge:
    label: str
    given: bool | None  # None: never asked


def _consent_badges(customer: Customer) -> list[ConsentBadge]:
    try:
        consents = customer.consents
    except ObjectDoesNotExist:
        return []
    return [ConsentBadge(label=CONSENT_LABELS[name], given=getattr(consents, name)) for name in CONSENT_NAMES]


def _number_text(program: Program, value: int | Decimal) -> str:
    """The number alone, as quantity_text writes it: "600" of "1,000 points"."""
    return quantity_text(program, value).split(" ")[0]


def _tier_progress(account: LoyaltyAccount, overview: CustomerOverview) -> TierProgress | None:
    upgrade = overview.upgrade
    if upgrade is None:
        return None
    program = account.program
    threshold = Decimal(upgrade.threshold)
    percent = int(min(Decimal(100), Decimal(upgrade.current_value) * 100 / threshold)) if threshold > 0 else 100
    text = (
        f"{quantity_text(program, upgrade.gap)} to {upgrade.next_tier.name} "
        f"({_number_text(program, upgrade.current_value)} of {quantity_text(program, upgrade.threshold)})"
    )
    return TierProgress(next_tier=upgrade.next_tier.name, text=text, percent=percent)


def _expiring_soon(overview: CustomerOverview) -> tuple[int, Any]:
    """Points that expire within EXPIRING_SOON_DAYS, and the first date they do (None: nothing expires soon)."""
    horizon = timezone.localdate() + timedelta(days=EXPIRING_SOON_DAYS)
    soon = [entry for entry in overview.expiry_schedule or [] if entry.expdate <= horizon]
    return sum(entry.points for entry in soon), (soon[0].expdate if soon else None)


def customer_glance(request: HttpRequest, customer: Customer) -> CustomerPagePanel:
    user = request.user
    may_view_accounts = user.has_perm("loyalty.view_loyaltyaccount")
    context: dict[str, Any] = {
        "customer": customer,
        "is_erased": customer.status == Customer.Status.ERASED,
        "consents": _consent_badges(customer),
        "home_store": customer.created_store,
        "may_view_accounts": may_view_accounts,
        "account": None,
        "expiring_soon_days": EXPIRING_SOON_DAYS,
    }
    account = None
    if may_view_accounts:
        accounts = customer_page_accounts(request, customer)
        account = accounts[0] if accounts and accounts[0].program.is_default else None
    if account is not None:
        overview = customer_page_overview(request, customer, account, now=timezone.now())
        expiring_points, expiring_from = _expiring_soon(overview)
        purchases: list[Purchase] | None = None
        if user.has_perm("loyalty.view_purchase"):
            purchases = customer_page_purchases(request, account)[:PURCHASES_SHOWN]
        context.update(
            account=account,
            overview=overview,
            tier_progress=_tier_progress(account, overview),
            expiring_points=expiring_points,
            expiring_from=expiring_from,
            purchases=purchases,
            home_store=customer.created_store or account.enrolled_store,
        )
        if user.has_perm("loyalty.change_loyaltyaccount") and customer.status != Customer.Status.ERASED:
            context["adjust_points_url"] = reverse("admin:loyalty_loyaltyaccount_adjust_points", args=(account.pk,))
    if user.has_perm("loyalty.view_voucher") or may_view_accounts:
        context["vouchers"] = customer_vouchers_usable_now(customer=customer, limit=VOUCHERS_SHOWN)
    if user.has_perm("loyalty.add_voucher") and customer.status != Customer.Status.ERASED:
        context["issue_voucher_url"] = reverse("admin:loyalty_voucher_issue") + f"?customer={customer.public_id}"
    if user.has_perm("crm.erase_customer") and customer.status != Customer.Status.ERASED:
        context["erase_url"] = reverse("admin:crm_customer_erase", args=(customer.pk,))
    return CustomerPagePanel(template_name=TEMPLATE_NAME, context=context)
