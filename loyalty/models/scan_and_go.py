"""Scan & Go configuration per program: the unlock policy, store overrides, denial wording and risk rules."""

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from loyalty.models.accounts import LoyaltyAccount
from loyalty.models.programs import SPOT_CHECK_BIAS_MAX, SPOT_CHECK_BIAS_MIN, Program, spot_check_bias_validators


class ScanAndGoPolicy(TimeStampedModel):
    """How a program answers Scan & Go devices (GET /customer-profile): who may unlock, and what comes with it.

    `config_version` is bumped by every change made through loyalty/services/scan_and_go.py (policy,
    store overrides, messages, risk rules); the profile endpoint reads it in its one lookup query and reloads
    its in-process copy of the configuration when it moved (see loyalty/selectors/scan_and_go_config.py).
    """

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="scan_and_go_policy")
    unlocking_allowed = models.BooleanField(
        default=True, help_text="Off: no device unlocks for anyone in this program (Scan & Go switched off)."
    )
    deny_blocked_customer = models.BooleanField(default=True)
    deny_blocked_account = models.BooleanField(default=True)
    deny_guest_account = models.BooleanField(
        default=False,
        help_text="Members only: shoppers who opted out of the loyalty program (guests) are asked to rejoin. Off: "
        "they unlock, without points or coupons.",
    )
    deny_blocked_card = models.BooleanField(default=True, help_text="Blocked, lost, stolen or replaced cards.")
    deny_expired_card = models.BooleanField(default=True)
    require_terms_consent = models.BooleanField(
        default=False, help_text="Only customers who agreed to the terms and conditions may unlock."
    )
    unlocking_station_device_types = models.CharField(
        max_length=200,
        default="unlocking_station",
        blank=True,
        help_text="Comma-separated deviceType values that are unlocking stations (staffed or fixed); in stores "
        "that do not allow self-unlocking only these unlock.",
    )
    include_coupons = models.BooleanField(default=True, help_text="Send auto-applied coupons to the device.")
    config_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "Scan & Go policy"
        verbose_name_plural = "Scan & Go policies"

    def __str__(self) -> str:
        return f"Scan & Go policy of {self.program}"


class ScanAndGoStoreOverride(TimeStampedModel):
    """What one store does differently from its program's Scan & Go policy."""

    policy = models.ForeignKey(ScanAndGoPolicy, on_delete=models.CASCADE, related_name="store_overrides")
    store = models.ForeignKey("crm.Store", on_delete=models.CASCADE, related_name="+")
    unlocking_allowed = models.BooleanField(default=True, help_text="Off: Scan & Go is switched off in this store.")
    self_unlocking_allowed = models.BooleanField(
        default=True, help_text="Off: only unlocking stations unlock (carts and handhelds cannot unlock themselves)."
    )
    require_terms_consent = models.BooleanField(null=True, blank=True, help_text="Empty: as the program's policy says.")
    spot_check_bias_delta = models.SmallIntegerField(
        default=0,
        validators=spot_check_bias_validators(),
        help_text="Added to every shopper's spot-check bias in this store, -100 to 100.",
    )

    class Meta:
        ordering = ("policy", "store")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("policy", "store"), name="scan_and_go_override_unique_per_store"),
            models.CheckConstraint(
                condition=Q(spot_check_bias_delta__gte=SPOT_CHECK_BIAS_MIN)
                & Q(spot_check_bias_delta__lte=SPOT_CHECK_BIAS_MAX),
                name="scan_and_go_override_bias_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store} ({self.policy.program})"


class ScanAndGoDenialMessage(TimeStampedModel):
    """A program's own wording of one denial reason in one language, instead of the translated default."""

    class Reason(models.TextChoices):
        CUSTOMER_BLOCKED = "customer_blocked", "Customer blocked"
        ACCOUNT_BLOCKED = "account_blocked", "Loyalty account blocked"
        NOT_A_MEMBER = "not_a_member", "Shopper opted out of the loyalty program (members only)"
        CARD_BLOCKED = "card_blocked", "Card blocked, lost or stolen"
        CARD_REPLACED = "card_replaced", "Card replaced by a newer card"
        CARD_EXPIRED = "card_expired", "Card expired"
        TERMS_NOT_ACCEPTED = "terms_not_accepted", "Terms and conditions not accepted"
        UNLOCKING_DISABLED = "unlocking_disabled", "Scan & Go switched off (program or store)"
        SELF_UNLOCKING_NOT_ALLOWED = "self_unlocking_not_allowed", "Store allows unlocking only at a station"

    policy = models.ForeignKey(ScanAndGoPolicy, on_delete=models.CASCADE, related_name="denial_messages")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    language = models.CharField(max_length=16, choices=settings.LANGUAGES)
    message = models.CharField(max_length=200)

    class Meta:
        ordering = ("policy", "reason", "language")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("policy", "reason", "language"), name="scan_and_go_message_unique_per_reason_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} [{self.language}]"


class SpotCheckRiskRule(TimeStampedModel):
    """A configurable adjustment of the spot-check bias: when the condition holds, `delta` is added."""

    class Condition(models.TextChoices):
        NO_PURCHASES = "no_purchases", "No purchases yet"
        ACCOUNT_YOUNGER_THAN_DAYS = "account_younger_than_days", "Member for fewer than N days"
        TIER_RANK_AT_LEAST = "tier_rank_at_least", "Tier rank at least N"
        TIER_RANK_AT_MOST = "tier_rank_at_most", "Tier rank at most N"
        CUSTOMER_GROUP_EQUALS = "customer_group_equals", "Customer group equals"
        TERMS_NOT_ACCEPTED = "terms_not_accepted", "Terms and conditions not accepted"

    policy = models.ForeignKey(ScanAndGoPolicy, on_delete=models.CASCADE, related_name="risk_rules")
    name = models.CharField(max_length=100)
    condition = models.CharField(max_length=32, choices=Condition.choices)
    parameter = models.CharField(
        max_length=64, blank=True, help_text="N for the 'N' conditions (a whole number), the group for groups."
    )
    delta = models.SmallIntegerField(validators=spot_check_bias_validators(), help_text="-100 to 100.")
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("policy", "position", "id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(delta__gte=SPOT_CHECK_BIAS_MIN) & Q(delta__lte=SPOT_CHECK_BIAS_MAX),
                name="spot_check_rule_delta_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from loyalty.rules.spot_check import risk_rule_parameter_error

        error = risk_rule_parameter_error(self.condition, self.parameter)
        if error:
            raise ValidationError({"parameter": error})


class ScanAndGoMember(LoyaltyAccount):
    """A loyalty account seen from Scan & Go: its own admin page, where store managers set the spot-check bias
    override without the permissions of the loyalty account page (points adjustments)."""

    class Meta:
        proxy = True
        verbose_name = "Scan & Go member"
        verbose_name_plural = "Scan & Go members"
