"""The loyalty panel of the customer admin page: each loyalty account with its tier, tier progress, balances, latest
ledger entries and purchases, and the customer's vouchers, with links to the full lists and to the account page
(where "Adjust points" is).

Shown through the customer page's loyalty extension (customers.py). The numbers come from the selector behind the
loyalty API's customer 360 view, so the page and the app agree. The panel runs a fixed number of queries whatever
the size of the history: one for the accounts and one for the vouchers, plus seven per account (balances, purchase
totals, tiers, the qualifying value now and at the tier's expiry, the latest entries and purchases; a customer has
at most one account per program).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from crm.admin import CustomerPagePanel
from crm.models import Customer
from loyalty.admin.common import quantity_text
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase, Voucher
from loyalty.selectors.accounts import CustomerOverview, customer_overview_get

LEDGER_ENTRIES_SHOWN = 20
PURCHASES_SHOWN = 10
VOUCHERS_SHOWN = 20
TEMPLATE_NAME = "admin/loyalty/customer_panel.html"
PAGE_READS_ATTRIBUTE = "_loyalty_customer_page_reads"
PAGE_EMBEDS = frozenset({"upgrade", "renewal", "expiry_schedule"})


@dataclass(frozen=True)
class AccountSection:
    account: LoyaltyAccount
    overview: CustomerOverview
    # The qualifying value, thresholds and gaps, as the program counts them ("1,200 points", "350.00 EUR").
    qualifying_value: str | None
    next_tier: str | None
    renewal: str | None
    entries: list[PointsEntry] | None
    purchases: list[Purchase] | None
    account_url: str
    adjust_points_url: str | None
    ledger_url: str | None
    purchases_url: str | None


@dataclass
class _PageReads:
    """What the customer page's glance (customer_glance.py) and this panel both show, read once per request."""

    accounts: list[LoyaltyAccount] | None = None
    overviews: dict[int, CustomerOverview] = field(default_factory=dict)
    purchases: dict[int, list[Purchase]] = field(default_factory=dict)


def _page_reads(request: HttpRequest) -> _PageReads:
    reads = getattr(request, PAGE_READS_ATTRIBUTE, None)
    if reads is None:
        reads = _PageReads()
        setattr(request, PAGE_READS_ATTRIBUTE, reads)
    return reads


def customer_page_accounts(request: HttpRequest, customer: Customer) -> list[LoyaltyAccount]:
    """The customer's accounts, the default program's first."""
    reads = _page_reads(request)
    if reads.accounts is None:
        reads.accounts = list(
            customer.loyalty_accounts.select_related("program", "tier", "enrolled_store").order_by(
                "-program__is_default", "created_at", "id"
            )
        )
    return reads.accounts


def customer_page_overview(
    request: HttpRequest, customer: Customer, account: LoyaltyAccount, *, now: datetime
) -> CustomerOverview:
    """The customer 360 view of one account with everything the page shows (tier progress, renewal, expiries)."""
    reads = _page_reads(request)
    if account.pk not in reads.overviews:
        reads.overviews[account.pk] = customer_overview_get(
            customer=customer, account=account, embeds=PAGE_EMBEDS, now=now
        )
    return reads.overviews[account.pk]


def customer_page_purchases(request: HttpRequest, account: LoyaltyAccount) -> list[Purchase]:
    """The account's latest PURCHASES_SHOWN purchases, newest first."""
    reads = _page_reads(request)
    if account.pk not in reads.purchases:
        reads.purchases[account.pk] = list(
            account.purchases.select_related("store").order_by("-purchased_at", "-id")[:PURCHASES_SHOWN]
        )
    return reads.purchases[account.pk]


def loyalty_customer_panel(request: HttpRequest, customer: Customer) -> CustomerPagePanel | None:
    """Each part is shown to users who may view it in the loyalty admin: accounts (store managers, not marketing),
    their ledger and purchases; vouchers also to whoever may see the accounts, since "which coupons do I have?" is
    a store manager's question too."""
    user = request.user
    may_view_accounts = user.has_perm("loyalty.view_loyaltyaccount")
    may_view_vouchers = user.has_perm("loyalty.view_voucher")
    if not (may_view_accounts or may_view_vouchers):
        return None
    now = timezone.now()
    sections = []
    if may_view_accounts:
        accounts = customer_page_accounts(request, customer)
        sections = [_account_section(request, customer, account, now) for account in accounts]
    vouchers = list(
        Voucher.objects.filter(customer=customer)
        .select_related("definition")
        .order_by("-issued_at", "-id")[:VOUCHERS_SHOWN]
    )
    vouchers_url = issue_voucher_url = None
    if may_view_vouchers:
        vouchers_url = reverse("admin:loyalty_voucher_changelist") + f"?customer={customer.pk}"
    if user.has_perm("loyalty.add_voucher") and customer.status != Customer.Status.ERASED:
        issue_voucher_url = reverse("admin:loyalty_voucher_issue") + f"?customer={customer.public_id}"
    context: dict[str, Any] = {
        "may_view_accounts": may_view_accounts,
        "sections": sections,
        "vouchers": vouchers,
        "vouchers_url": vouchers_url,
        "issue_voucher_url": issue_voucher_url,
        "vouchers_shown": VOUCHERS_SHOWN,
        "ledger_entries_shown": LEDGER_ENTRIES_SHOWN,
        "purchases_shown": PURCHASES_SHOWN,
    }
    return CustomerPagePanel(template_name=TEMPLATE_NAME, context=context)


def _account_section(
    request: HttpRequest, customer: Customer, account: LoyaltyAccount, now: datetime
) -> AccountSection:
    user = request.user
    overview = customer_page_overview(request, customer, account, now=now)
    program = account.program
    may_view_ledger = user.has_perm("loyalty.view_pointsentry")
    may_view_purchases = user.has_perm("loyalty.view_purchase")
    entries = purchases = None
    if may_view_ledger:
        entries = list(
            account.entries.select_related("purchase", "created_by").order_by("-created_at", "-id")[
                :LEDGER_ENTRIES_SHOWN
            ]
        )
    if may_view_purchases:
        purchases = customer_page_purchases(request, account)
    return AccountSection(
        account=account,
        overview=overview,
        qualifying_value=_qualifying_value_text(program, overview),
        next_tier=_next_tier_text(program, overview),
        renewal=_renewal_text(program, overview),
        entries=entries,
        purchases=purchases,
        account_url=reverse("admin:loyalty_loyaltyaccount_change", args=(account.pk,)),
        adjust_points_url=(
            reverse("admin:loyalty_loyaltyaccount_adjust_points", args=(account.pk,))
            if user.has_perm("loyalty.change_loyaltyaccount")
            else None
        ),
        ledger_url=(
            reverse("admin:loyalty_pointsentry_changelist") + f"?account={account.pk}" if may_view_ledger else None
        ),
        purchases_url=(
            reverse("admin:loyalty_purchase_changelist") + f"?account={account.pk}" if may_view_purchases else None
        ),
    )


def _qualifying_value_text(program: Program, overview: CustomerOverview) -> str | None:
    if not overview.tiers:
        return None
    value = quantity_text(program, overview.tiers[0].points)
    return f"{value} over the last {program.tier_window_days} days"


def _next_tier_text(program: Program, overview: CustomerOverview) -> str | None:
    upgrade = overview.upgrade
    if upgrade is None:
        return None
    threshold, gap = quantity_text(program, upgrade.threshold), quantity_text(program, upgrade.gap)
    return f"{upgrade.next_tier.name} at {threshold}: {gap} to go"


def _renewal_text(program: Program, overview: CustomerOverview) -> str | None:
    """The gap counts only what will still be inside the window on the expiry date, as the expiry job will."""
    renewal = overview.renewal
    if renewal is None:
        return None
    status = "met" if renewal.gap == 0 else f"{quantity_text(program, renewal.gap)} to go"
    return f"keep {renewal.tier.name} with {quantity_text(program, renewal.keep_threshold)} by its expiry: {status}"
