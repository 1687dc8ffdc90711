"""The loyalty back office, one module per area; importing a module registers its pages with admin.site.

Each module imports what it uses from its neighbours (common.py's helpers, cards.py's inline on the account page) and
none imports back, so no page depends on the order of the imports below: they are in ruff's alphabetical order,
which keeps them fixed.
"""

from loyalty.admin import (
    accounts,  # loyalty accounts with their ledger, tier changes and cards inline; "Adjust points"
    cards,  # loyalty cards: issue, block, unblock, replace
    coupons,  # coupon definitions, their eligibility preview and "Generate vouchers"
    customers,  # the loyalty part of the customer page, through crm.admin.CustomerPageExtension
    dashboard,  # the back-office dashboard, routed in config/urls.py
    imports,  # customer imports: upload, dry run, progress, reports
    ledger,  # purchases and points entries, view-only
    programs,  # programs, tiers and the coupons a tier gives
    scan_and_go,  # each program's Scan & Go policy and members' spot-check bias
    subject_access,  # "Export personal data" on the customer page, through crm.admin.CustomerPageExtension
    vouchers,  # vouchers, "Issue a voucher", batches and their CSV exports
)

__all__ = [
    "accounts",
    "cards",
    "coupons",
    "customers",
    "dashboard",
    "imports",
    "ledger",
    "programs",
    "scan_and_go",
    "subject_access",
    "vouchers",
]
