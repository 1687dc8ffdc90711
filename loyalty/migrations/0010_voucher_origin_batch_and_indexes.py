"""Vouchers record how they came to be (origin) and which bulk generation made them (batch); tier benefits can be
switched off (is_active); two partial indexes on redeemed vouchers (the dashboard's redemptions per period, and the
auto-apply replay check by coupon and transaction).

Vouchers issued before this migration recorded neither origin nor batch, so origin_derive guesses from what they
kept, in this order (the first that holds wins):
- the code starts with "AUTO-" (what auto-applied redemptions were marked with): auto_apply;
- a TierBenefitGrant points at it: tier_benefit;
- it has no customer (only bulk generation issued anonymous codes): batch;
- otherwise: manual. Batch codes a customer has since claimed or redeemed (which sets the customer) are counted
  here too, since nothing tells them apart from vouchers issued to that customer.
A batch-origin voucher is linked to a batch of its coupon when its issued_at lies within the window the batch ran
in (started_at to finished_at, or to its last update if unfinished): every chunk stamps its vouchers with a time in
that window. Where windows of two batches of the same coupon overlap, the earlier batch gets the vouchers. Claimed
or redeemed batch codes (counted as manual above) stay without a batch.
"""

import django.db.models.deletion
from django.db import migrations, models

AUTO_APPLIED_CODE_PREFIX = "AUTO-"  # a frozen copy of loyalty.services.coupon_redemptions.AUTO_APPLIED_CODE_PREFIX


def origin_derive(apps, schema_editor):
    Voucher = apps.get_model("loyalty", "Voucher")
    VoucherBatch = apps.get_model("loyalty", "VoucherBatch")
    TierBenefitGrant = apps.get_model("loyalty", "TierBenefitGrant")
    # Every existing row is "manual" (the field's default) until one of these claims it.
    Voucher.objects.filter(code__startswith=AUTO_APPLIED_CODE_PREFIX).update(origin="auto_apply")
    granted = TierBenefitGrant.objects.filter(voucher__isnull=False).values("voucher_id")
    Voucher.objects.filter(origin="manual", pk__in=granted).update(origin="tier_benefit")
    Voucher.objects.filter(origin="manual", customer__isnull=True).update(origin="batch")
    batches = VoucherBatch.objects.filter(started_at__isnull=False).order_by("pk")
    for batch in batches.iterator():
        Voucher.objects.filter(
            origin="batch",
            batch__isnull=True,
            definition_id=batch.definition_id,
            issued_at__gte=batch.started_at,
            issued_at__lte=batch.finished_at or batch.updated_at,
        ).update(batch=batch)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_admin_roles_scan_and_go"),
        ("loyalty", "0009_scan_and_go_member"),
    ]

    operations = [
        migrations.AddField(
            model_name="tierbenefitcoupon",
            name="is_active",
            field=models.BooleanField(
                default=True, help_text="Off: the benefit is given to no one (grants already made stay)."
            ),
        ),
        migrations.AddField(
            model_name="voucher",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="vouchers",
                to="loyalty.voucherbatch",
            ),
        ),
        migrations.AddField(
            model_name="voucher",
            name="origin",
            field=models.CharField(
                choices=[
                    ("manual", "Issued to a customer (service, admin, API)"),
                    ("batch", "Bulk generation"),
                    ("tier_benefit", "Tier benefit"),
                    ("auto_apply", "Auto-applied at the till"),
                ],
                default="manual",
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="voucher",
            index=models.Index(
                condition=models.Q(("status", "redeemed")), fields=["redeemed_at"], name="voucher_redeemed_at"
            ),
        ),
        migrations.AddIndex(
            model_name="voucher",
            index=models.Index(
                condition=models.Q(("status", "redeemed")),
                fields=["definition", "redeemed_transaction_id"],
                name="voucher_redeemed_transaction",
            ),
        ),
        # Last: on PostgreSQL no ALTER TABLE may follow row updates in the same transaction.
        migrations.RunPython(origin_derive, migrations.RunPython.noop),
    ]
