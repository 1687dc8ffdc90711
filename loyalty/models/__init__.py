"""The loyalty app's models, one module per area. Everything is re-exported here: code imports
`from loyalty.models import X`, and migrations name callables as `loyalty.models.<name>`."""

from loyalty.models.accounts import Card, LoyaltyAccount, TierChange
from loyalty.models.coupons import (
    TIER_BENEFIT_VALIDITY_DAYS_MAX,
    CouponDefinition,
    TierBenefitCoupon,
    TierBenefitGrant,
    Voucher,
    VoucherBatch,
    _all_channels,
    _channels_validate,
    _code_pattern_validate,
)
from loyalty.models.imports import ImportJob
from loyalty.models.ledger import PointsEntry, Purchase
from loyalty.models.programs import (
    PROGRAM_DAYS_MAX,
    SESSION_CHANNELS,
    SPOT_CHECK_BIAS_MAX,
    SPOT_CHECK_BIAS_MIN,
    Program,
    Tier,
    _session_channels,
    _session_channels_validate,
)
from loyalty.models.reports import CustomerDataExport, PointsLiability
from loyalty.models.scan_and_go import (
    ScanAndGoDenialMessage,
    ScanAndGoMember,
    ScanAndGoPolicy,
    ScanAndGoStoreOverride,
    SpotCheckRiskRule,
)

__all__ = [
    "PROGRAM_DAYS_MAX",
    "SESSION_CHANNELS",
    "SPOT_CHECK_BIAS_MAX",
    "SPOT_CHECK_BIAS_MIN",
    "TIER_BENEFIT_VALIDITY_DAYS_MAX",
    "Card",
    "CouponDefinition",
    "CustomerDataExport",
    "ImportJob",
    "LoyaltyAccount",
    "PointsEntry",
    "PointsLiability",
    "Program",
    "Purchase",
    "ScanAndGoDenialMessage",
    "ScanAndGoMember",
    "ScanAndGoPolicy",
    "ScanAndGoStoreOverride",
    "SpotCheckRiskRule",
    "Tier",
    "TierBenefitCoupon",
    "TierBenefitGrant",
    "TierChange",
    "Voucher",
    "VoucherBatch",
    # Defaults and validators that migrations 0004 and 0006 reference by this module's path.
    "_all_channels",
    "_channels_validate",
    "_code_pattern_validate",
    "_session_channels",
    "_session_channels_validate",
]
