"""A program's periods (return window, points expiry, tier window, tier validity) are at most 3660 days: a validator
on each field and one check constraint. A larger number of days overflowed the dates computed from it (past the
year 9999), and every checkout or tier change of the program failed. Periods already set longer are clamped to the
maximum first (periods_clamp), so that the constraint can be added; ten years is still "as long as it gets".
"""

import django.core.validators
from django.db import migrations, models

PROGRAM_DAYS_MAX = 3660  # a frozen copy of loyalty.models.PROGRAM_DAYS_MAX
PERIODS = ("pending_days", "points_expiry_days", "tier_window_days", "tier_validity_days")


def periods_clamp(apps, schema_editor):
    Program = apps.get_model("loyalty", "Program")
    for field in PERIODS:
        Program.objects.filter(**{f"{field}__gt": PROGRAM_DAYS_MAX}).update(**{field: PROGRAM_DAYS_MAX})


class Migration(migrations.Migration):

    dependencies = [
        ('loyalty', '0011_tier_benefit_validity_days_max'),
    ]

    operations = [
        migrations.AlterField(
            model_name='program',
            name='pending_days',
            field=models.PositiveIntegerField(default=0, help_text='Return window: points stay pending this many days before they can be spent.', validators=[django.core.validators.MaxValueValidator(3660)]),
        ),
        migrations.AlterField(
            model_name='program',
            name='points_expiry_days',
            field=models.PositiveIntegerField(blank=True, help_text='Points expire this many days after they are confirmed; empty: never.', null=True, validators=[django.core.validators.MaxValueValidator(3660)]),
        ),
        migrations.AlterField(
            model_name='program',
            name='tier_validity_days',
            field=models.PositiveIntegerField(default=365, help_text='A tier reached or renewed is kept this many days.', validators=[django.core.validators.MaxValueValidator(3660)]),
        ),
        migrations.AlterField(
            model_name='program',
            name='tier_window_days',
            field=models.PositiveIntegerField(default=365, help_text='Qualifying window for tiers, in days.', validators=[django.core.validators.MaxValueValidator(3660)]),
        ),
        # Nothing to undo: the values clamped were not usable.
        migrations.RunPython(periods_clamp, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name='program',
            constraint=models.CheckConstraint(condition=models.Q(('pending_days__lte', 3660), models.Q(('points_expiry_days__isnull', True), ('points_expiry_days__lte', 3660), _connector='OR'), ('tier_window_days__lte', 3660), ('tier_validity_days__lte', 3660)), name='program_periods_at_most_ten_years'),
        ),
    ]
