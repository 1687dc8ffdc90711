"""Store managers handle erasure requests: they get the "erase customer" permission (crm 0004). Everything 0003
gave stays. Like 0002 and 0003 it fetches or creates the groups and *sets* their permissions."""

import importlib

from django.db import migrations

from crm.roles import MARKETING, STORE_MANAGERS, admin_roles_set

previous = importlib.import_module("crm.migrations.0003_admin_roles_vouchers")

ROLE_PERMISSIONS = {
    STORE_MANAGERS: (*previous.ROLE_PERMISSIONS[STORE_MANAGERS], ("crm", "erase_customer")),
    MARKETING: previous.ROLE_PERMISSIONS[MARKETING],
}


def create_admin_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=ROLE_PERMISSIONS)


def restore_previous_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=previous.ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_customer_erase_permission")]

    operations = [migrations.RunPython(create_admin_roles, restore_previous_roles)]
