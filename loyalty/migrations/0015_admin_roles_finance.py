"""The finance and migration tools' permissions in the back-office roles, and a new role, "Finance". Like the roles
migrations before it (crm 0002 to 0007) it fetches or creates the groups and *sets* their permissions; it lives in
loyalty because the permissions are loyalty's (the report proxies of 0014).

Marketing and Finance read the points liability report; Finance also sees the programs (their burn value and
expiry rules explain the report's figures). Store managers answer a customer's subject-access request, as they
answer erasure requests: "view customer data export". Imports are for superusers (or whoever is given "add import
job" by hand): migrating another CRM's customers is a one-off job, not a role's daily work.
"""

import importlib

from django.db import migrations

from crm.roles import FINANCE, MARKETING, STORE_MANAGERS, admin_roles_set

previous = importlib.import_module("crm.migrations.0007_admin_roles_profile_fixes")

ROLE_PERMISSIONS = {
    STORE_MANAGERS: (
        *previous.ROLE_PERMISSIONS[STORE_MANAGERS],
        ("loyalty", "view_customerdataexport"),
    ),
    MARKETING: (
        *previous.ROLE_PERMISSIONS[MARKETING],
        ("loyalty", "view_pointsliability"),
    ),
    FINANCE: (
        ("loyalty", "view_pointsliability"),
        ("loyalty", "view_program"),
    ),
}


def create_admin_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=ROLE_PERMISSIONS)


def restore_previous_roles(apps, schema_editor) -> None:
    admin_roles_set(apps, schema_editor, role_permissions=previous.ROLE_PERMISSIONS)
    apps.get_model("auth", "Group").objects.filter(name=FINANCE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_external_customer_id"),
        ("loyalty", "0014_customer_import_and_reports"),
    ]

    operations = [migrations.RunPython(create_admin_roles, restore_previous_roles)]
