"""A tier benefit's voucher is valid at most 3660 days (ten years): a validator on the field and a check constraint.

Without the bound, a validity of more than about 2.9 million days overflowed the voucher's expiry date when the
benefit was given, and every enrolment or upgrade into the tier failed. Benefits already configured longer are set
to the maximum first (validity_clamp), so that the constraint can be added: a voucher of theirs still lasts ten
years, or until its coupon ends, whichever comes first.
"""

import django.core.validators
from django.db import migrations, models

VALIDITY_DAYS_MAX = 3660  # a frozen copy of loyalty.models.TIER_BENEFIT_VALIDITY_DAYS_MAX


def validity_clamp(apps, schema_editor):
    TierBenefitCoupon = apps.get_model("loyalty", "TierBenefitCoupon")
    TierBenefitCoupon.objects.filter(validity_days__gt=VALIDITY_DAYS_MAX).update(validity_days=VALIDITY_DAYS_MAX)


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0010_voucher_origin_batch_and_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="tierbenefitcoupon",
            name="validity_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Days the voucher is valid from its issue, 1 to 3660; empty: until the coupon ends.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(3660),
                ],
            ),
        ),
        # Nothing to undo: the values clamped were not usable.
        migrations.RunPython(validity_clamp, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="tierbenefitcoupon",
            constraint=models.CheckConstraint(
                condition=models.Q(("validity_days__isnull", True), ("validity_days__lte", 3660), _connector="OR"),
                name="tier_benefit_coupon_validity_at_most_ten_years",
            ),
        ),
    ]
