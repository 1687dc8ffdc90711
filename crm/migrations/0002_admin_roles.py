"""The two back-office roles as groups: "Store managers" and "Marketing".

Safe to run again (and run by the tests, since a transactional test empties the tables): the groups are fetched or
created and their permissions are *set*, so a permission added by hand in the admin is taken away again.
"""

from django.db import migrations

from crm.roles import MARKETING, STORE_MANAGERS, admin_roles_set

# (app label, codename). Store managers look customers up, fix profiles and answer "where are my points?": the
# loyalty account is read-only apart from "Adjust points", which LoyaltyAccountAdmin allows to holders of
# loyalty.change_loyaltyaccount (its own change form stays read-only). No coupon, tier or program configuration.
ROLE_PERMISSIONS = {
    STORE_MANAGERS: (
        ("crm", "view_customer"),
        ("crm", "change_customer"),
        ("crm", "view_address"),
        ("crm", "change_address"),
        ("crm", "view_consents"),
        ("crm", "change_consents"),
        ("crm", "view_consentchange"),
        ("crm", "view_store"),
        ("crm", "view_associate"),
        ("loyalty", "view_loyaltyaccount"),
        ("loyalty", "change_loyaltyaccount"),
        ("loyalty", "view_purchase"),
        ("loyalty", "view_pointsentry"),
    ),
    # Marketing configures programs, tiers and coupons and issues vouchers; customers are read-only, and the
    # customer changelist hides contact details from users without crm.change_customer (CustomerAdmin).
    MARKETING: (
        ("loyalty", "add_program"),
        ("loyalty", "change_program"),
        ("loyalty", "view_program"),
        ("loyalty", "add_tier"),
        ("loyalty", "change_tier"),
        ("loyalty", "view_tier"),
        ("loyalty", "add_coupondefinition"),
        ("loyalty", "change_coupondefinition"),
        ("loyalty", "view_coupondefinition"),
        ("loyalty", "add_voucher"),
        ("loyalty", "change_voucher"),
        ("loyalty", "view_voucher"),
        ("crm", "view_customer"),
    ),
}


def create_admin_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=ROLE_PERMISSIONS)


def delete_admin_roles(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("loyalty", "0004_coupons"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("webhooks", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_admin_roles, delete_admin_roles)]
