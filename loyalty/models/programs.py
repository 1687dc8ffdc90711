"""Programs and their tiers: what a retailer configures once, and the limits every other model checks against."""

from decimal import Decimal
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from crm.validators import validate_language

SESSION_CHANNELS = ("web", "pos", "mobile")
# The range of Scan & Go's spotCheckBias; every bias or delta stored is within it (and the sum is clamped to it).
SPOT_CHECK_BIAS_MIN = -100
SPOT_CHECK_BIAS_MAX = 100


def _session_channels() -> list[str]:
    return list(SESSION_CHANNELS)


def spot_check_bias_validators() -> list:
    return [MinValueValidator(SPOT_CHECK_BIAS_MIN), MaxValueValidator(SPOT_CHECK_BIAS_MAX)]


def _session_channels_validate(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(SESSION_CHANNELS) or len(set(value)) != len(value):
        raise ValidationError(
            "Choose distinct channels among: %(known)s.", code="channels", params={"known": ", ".join(SESSION_CHANNELS)}
        )


# A program's periods (return window, points expiry, tier window and validity) are at most ten years: dates computed
# from a larger number of days can overflow (datetime's year 9999), which would fail every checkout of the program.
PROGRAM_DAYS_MAX = 3660


class Program(TimeStampedModel):
    """A loyalty program. One is the default: the one POS sign-ups enrol into."""

    class Rounding(models.TextChoices):
        DOWN = "down", "Round down"
        HALF_UP = "half_up", "Round half up"
        UP = "up", "Round up"

    class EarnBasis(models.TextChoices):
        TRANSACTION = "transaction", "Per transaction (on the eligible total)"
        ITEM = "item", "Per item (each line rounded)"

    class TierQualification(models.TextChoices):
        POINTS = "points", "Points earned in the qualifying window"
        SPEND = "spend", "Spend in the qualifying window"

    class NegativeBalancePolicy(models.TextChoices):
        OWE = "owe", "The customer owes the points (negative balance, repaid by later earnings)"
        FORGIVE = "forgive", "Take back only what is left; forgive the rest"

    class PosCardNumbers(models.TextChoices):
        ACCEPT = "accept", "Accept the card number the POS sends (pre-printed cards handed out at the till)"
        REFUSE = "refuse", "Issue our own numbers; refuse a card number the POS sends"

    class CheckDigit(models.TextChoices):
        NONE = "none", "None"
        LUHN = "luhn", "Luhn (mod 10), the last digit"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, default="USD")
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    earn_rate = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("1"), help_text="Points per currency unit spent."
    )
    earn_rounding = models.CharField(max_length=16, choices=Rounding.choices, default=Rounding.DOWN)
    earn_basis = models.CharField(max_length=16, choices=EarnBasis.choices, default=EarnBasis.TRANSACTION)
    excluded_products = models.JSONField(
        default=list, blank=True, help_text="Product ids or categories that earn no points (gift cards, tobacco)."
    )
    pending_days = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(PROGRAM_DAYS_MAX)],
        help_text="Return window: points stay pending this many days before they can be spent.",
    )
    points_expiry_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(PROGRAM_DAYS_MAX)],
        help_text="Points expire this many days after they are confirmed; empty: never.",
    )
    burn_value = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0.01"), help_text="Currency value of one point."
    )
    tier_qualification = models.CharField(
        max_length=16, choices=TierQualification.choices, default=TierQualification.POINTS
    )
    tier_window_days = models.PositiveIntegerField(
        default=365, validators=[MaxValueValidator(PROGRAM_DAYS_MAX)], help_text="Qualifying window for tiers, in days."
    )
    tier_validity_days = models.PositiveIntegerField(
        default=365,
        validators=[MaxValueValidator(PROGRAM_DAYS_MAX)],
        help_text="A tier reached or renewed is kept this many days.",
    )
    negative_balance_policy = models.CharField(
        max_length=16, choices=NegativeBalancePolicy.choices, default=NegativeBalancePolicy.OWE
    )
    auto_enrol_channels = models.JSONField(
        default=_session_channels,
        blank=True,
        validators=[_session_channels_validate],
        help_text="Channels (web, pos, mobile) on which a shopper session enrols a new shopper; empty: never.",
    )
    default_language = models.CharField(
        max_length=16,
        default="en",
        validators=[validate_language],
        help_text="Language of customer-facing messages (such as Scan & Go denials) when the customer has none "
        "or one we do not speak.",
    )
    card_number_strip_leading_zeros = models.BooleanField(
        default=True,
        help_text="Card numbers are compared without leading zeros (scanners often add them: 0012345 is 12345). "
        "Applies to cards issued after a change; cards issued before still match as they were stored.",
    )
    pos_card_numbers = models.CharField(
        max_length=16,
        choices=PosCardNumbers.choices,
        default=PosCardNumbers.ACCEPT,
        help_text="What a POS sign-up or profile edit with a card number (the Clienteling SPI's profile.loyaltyId) "
        "does: that number becomes the customer's card, or the request is refused (422 LOYALTY_ID_NOT_ACCEPTED) and "
        "only numbers we issue are used. A number is never silently replaced.",
    )
    card_number_check_digit = models.CharField(
        max_length=16,
        choices=CheckDigit.choices,
        default=CheckDigit.NONE,
        help_text="The check digit of this program's printed card numbers: a number given for a new card (by the "
        "POS or in the back office) must carry a valid one. Numbers we generate always carry a Luhn digit.",
    )

    class Meta:
        ordering = ("code",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("is_default",), condition=Q(is_default=True), name="one_default_program"),
            models.CheckConstraint(condition=Q(earn_rate__gte=0), name="program_earn_rate_not_negative"),
            models.CheckConstraint(condition=Q(burn_value__gt=0), name="program_burn_value_positive"),
            models.CheckConstraint(
                condition=Q(pending_days__lte=PROGRAM_DAYS_MAX)
                & (Q(points_expiry_days__isnull=True) | Q(points_expiry_days__lte=PROGRAM_DAYS_MAX))
                & Q(tier_window_days__lte=PROGRAM_DAYS_MAX)
                & Q(tier_validity_days__lte=PROGRAM_DAYS_MAX),
                name="program_periods_at_most_ten_years",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(TimeStampedModel):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers")
    rank = models.PositiveIntegerField(help_text="0 is the entry tier; higher ranks are better.")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=100)
    title = models.CharField(max_length=100, blank=True)
    subtitle = models.CharField(max_length=200, blank=True)
    threshold = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Qualifying value (points or spend, as the program says) needed to reach this tier.",
    )
    renewal_threshold = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Qualifying value needed to keep the tier at its expiry; empty: the entry threshold.",
    )
    earn_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"))
    benefits = models.TextField(blank=True)
    spot_check_bias = models.SmallIntegerField(
        default=0,
        validators=spot_check_bias_validators(),
        help_text="Scan & Go spot-check bias of this tier's members, -100 (never checked) to 100 (more often).",
    )

    class Meta:
        ordering = ("program", "rank")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("program", "code"), name="tier_code_unique_per_program"),
            models.UniqueConstraint(fields=("program", "rank"), name="tier_rank_unique_per_program"),
            models.CheckConstraint(
                condition=Q(spot_check_bias__gte=SPOT_CHECK_BIAS_MIN) & Q(spot_check_bias__lte=SPOT_CHECK_BIAS_MAX),
                name="tier_spot_check_bias_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program.code})"

    @property
    def keep_threshold(self) -> Decimal:
        return self.threshold if self.renewal_threshold is None else self.renewal_threshold
