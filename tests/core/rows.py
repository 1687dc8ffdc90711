"""Row counts of every model of ours, so that a test can show a rejected request wrote nothing anywhere."""

from django.apps import apps

OUR_APPS = {"core", "crm", "loyalty", "webhooks"}


def every_row_count() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
    }
