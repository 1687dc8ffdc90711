"""The back-office groups as the newest roles migration sets them, for tests.

Transactional tests (live server, threads) empty the auth tables, groups included; tests that log in as a role
put the groups back with admin_roles_reset(). LATEST_ROLES_MIGRATION moves with each new roles migration.
"""

import importlib

from django.apps import apps

LATEST_ROLES_MIGRATION = "loyalty.migrations.0015_admin_roles_finance"

latest_roles = importlib.import_module(LATEST_ROLES_MIGRATION)


def admin_roles_reset() -> None:
    latest_roles.create_admin_roles(apps, None)
