from django.conf import settings
from django.db import migrations


def create_default_program(apps, schema_editor):
    """A fresh install must be able to enrol a POS sign-up at once; marketing renames or replaces these."""
    program_model = apps.get_model("loyalty", "Program")
    tier_model = apps.get_model("loyalty", "Tier")
    if program_model.objects.exists():
        return
    program = program_model.objects.create(
        code="default", name="Loyalty program", currency=settings.LOYALTY_DEFAULT_CURRENCY, is_default=True
    )
    tier_model.objects.create(program=program, rank=0, code="member", name="Member", title="Member", subtitle="Welcome")


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(create_default_program, migrations.RunPython.noop)]
