"""The back-office roles ("Store managers", "Marketing") as auth groups, shared by the migrations that set them.

Each migration passes its own permission table, so an old migration keeps meaning what it meant when it ran.
"""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

STORE_MANAGERS = "Store managers"
MARKETING = "Marketing"
FINANCE = "Finance"

RolePermissions = dict[str, tuple[tuple[str, str], ...]]


def admin_roles_set(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None, *, role_permissions: RolePermissions
) -> None:
    """Fetch or create each group and *set* its permissions to exactly the (app label, codename) pairs given.

    Safe to run again: a permission added by hand in the admin is taken away again.
    """
    using = schema_editor.connection.alias if schema_editor is not None else DEFAULT_DB_ALIAS
    # Permissions are normally created by post_migrate, after *all* migrations: create them now for the apps
    # involved. create_permissions skips app configs without a models module, which migration state stubs lack.
    for label in sorted({app_label for wanted in role_permissions.values() for app_label, _codename in wanted}):
        app_config = apps.get_app_config(label)
        original = getattr(app_config, "models_module", None)
        # create_permissions only asks whether there is one; True will do (it is no module, hence the ignore).
        app_config.models_module = original or True  # type: ignore[assignment]
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in role_permissions.items():
        permissions = [
            Permission.objects.using(using).get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(permissions)
