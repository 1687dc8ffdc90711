"""Roles for loyalty cards and the Scan & Go configuration (loyalty 0007-0009).

Store managers help shoppers at the store: they look cards up, issue, block and replace them (cards are never
deleted), set a member's spot-check bias override, and may read the Scan & Go configuration. Marketing configures
Scan & Go (policy, store overrides, denial messages, spot-check risk rules; the inlines need their own
permissions) and may look at cards and members. Everything 0005 gave stays; like the earlier roles migrations it
fetches or creates the groups and *sets* their permissions.
"""

import importlib

from django.db import migrations

from crm.roles import MARKETING, STORE_MANAGERS, admin_roles_set

previous = importlib.import_module("crm.migrations.0005_admin_roles_erasure")

SCAN_AND_GO_CONFIGURATION = ("scanandgopolicy", "scanandgostoreoverride", "scanandgodenialmessage", "spotcheckriskrule")

ROLE_PERMISSIONS = {
    STORE_MANAGERS: (
        *previous.ROLE_PERMISSIONS[STORE_MANAGERS],
        ("loyalty", "view_card"),
        ("loyalty", "add_card"),
        ("loyalty", "change_card"),
        ("loyalty", "view_scanandgomember"),
        ("loyalty", "change_scanandgomember"),
        *(("loyalty", f"view_{model}") for model in SCAN_AND_GO_CONFIGURATION),
    ),
    MARKETING: (
        *previous.ROLE_PERMISSIONS[MARKETING],
        *(
            ("loyalty", f"{action}_{model}")
            for model in SCAN_AND_GO_CONFIGURATION
            for action in ("view", "add", "change", "delete")
        ),
        ("loyalty", "view_card"),
        ("loyalty", "view_scanandgomember"),
    ),
}


def create_admin_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=ROLE_PERMISSIONS)


def restore_previous_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=previous.ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_admin_roles_erasure"),
        ("loyalty", "0009_scan_and_go_member"),
    ]

    operations = [migrations.RunPython(create_admin_roles, restore_previous_roles)]
