"""What each role was missing to finish its work in the admin. Everything 0006 gave stays; like the earlier roles
migrations it fetches or creates the groups and *sets* their permissions.

Store managers fix profiles: the customer page's address inline adds a new address only with "add address", and
the consents inline offers its form to a customer who has no consents row yet only with "add consents" (both save
through crm services, address_save and consents_set). Marketing configures Scan & Go store overrides, which pick
the store through a raw-id lookup that opens the store list: "view store" (stores are read-only reference data).
"""

import importlib

from django.db import migrations

from crm.roles import MARKETING, STORE_MANAGERS, admin_roles_set

previous = importlib.import_module("crm.migrations.0006_admin_roles_scan_and_go")

ROLE_PERMISSIONS = {
    STORE_MANAGERS: (
        *previous.ROLE_PERMISSIONS[STORE_MANAGERS],
        ("crm", "add_address"),
        ("crm", "add_consents"),
    ),
    MARKETING: (
        *previous.ROLE_PERMISSIONS[MARKETING],
        ("crm", "view_store"),
    ),
}


def create_admin_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=ROLE_PERMISSIONS)


def restore_previous_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=previous.ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_admin_roles_scan_and_go")]

    operations = [migrations.RunPython(create_admin_roles, restore_previous_roles)]
