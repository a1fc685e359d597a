"""Load GB/T 2260 region codes (historical ones included) from python-stdnum's table."""

from django.db import migrations


def load_regions(apps, schema_editor):  # type: ignore[no-untyped-def]
    from xietong.core.actions import regions_load

    regions_load(model=apps.get_model("core", "Region"))


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
