"""Scan & Go for members only: a policy switch (deny_guest_account, off, so nothing changes until marketing turns it
on) that keeps the devices of shoppers who opted out of the loyalty program locked, with a denial reason of its own
(not_a_member) that programs may word in their own messages."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('loyalty', '0012_program_periods_at_most_ten_years'),
    ]

    operations = [
        migrations.AddField(
            model_name='scanandgopolicy',
            name='deny_guest_account',
            field=models.BooleanField(default=False, help_text='Members only: shoppers who opted out of the loyalty program (guests) are asked to rejoin. Off: they unlock, without points or coupons.'),
        ),
        migrations.AlterField(
            model_name='scanandgodenialmessage',
            name='reason',
            field=models.CharField(choices=[('customer_blocked', 'Customer blocked'), ('account_blocked', 'Loyalty account blocked'), ('not_a_member', 'Shopper opted out of the loyalty program (members only)'), ('card_blocked', 'Card blocked, lost or stolen'), ('card_replaced', 'Card replaced by a newer card'), ('card_expired', 'Card expired'), ('terms_not_accepted', 'Terms and conditions not accepted'), ('unlocking_disabled', 'Scan & Go switched off (program or store)'), ('self_unlocking_not_allowed', 'Store allows unlocking only at a station')], max_length=32),
        ),
    ]
