"""Marketing issues vouchers in bulk and configures the coupons that tiers hand out: voucher batches and tier
benefit coupons join its permissions (tier benefit grants read-only). Everything 0002 gave stays.

Like 0002 it fetches or creates the groups and *sets* their permissions, so it is safe to run again.
"""

import importlib

from django.db import migrations

from crm.roles import MARKETING, STORE_MANAGERS, admin_roles_set

previous = importlib.import_module("crm.migrations.0002_admin_roles")

ROLE_PERMISSIONS = {
    STORE_MANAGERS: previous.ROLE_PERMISSIONS[STORE_MANAGERS],
    MARKETING: (
        *previous.ROLE_PERMISSIONS[MARKETING],
        ("loyalty", "add_voucherbatch"),
        ("loyalty", "change_voucherbatch"),
        ("loyalty", "view_voucherbatch"),
        ("loyalty", "add_tierbenefitcoupon"),
        ("loyalty", "change_tierbenefitcoupon"),
        ("loyalty", "view_tierbenefitcoupon"),
        ("loyalty", "view_tierbenefitgrant"),
    ),
}


def create_admin_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=ROLE_PERMISSIONS)


def restore_previous_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=previous.ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_admin_roles"),
        ("loyalty", "0006_program_auto_enrol_channels"),
    ]

    operations = [migrations.RunPython(create_admin_roles, restore_previous_roles)]
