"""Every transfer belongs to one office (issue 11, defect 8): incoming transfers that arrived with no
office go to the node's top HRSS office (``XIETONG_HRSS_OFFICE``, else the HRSS bureau with the
shortest tree path, then the oldest).
A node without any HRSS bureau keeps them as they are; an officer with node-wide rights assigns them."""

from django.conf import settings
from django.db import migrations
from django.db.models.functions import Length


def assign_top_office(apps, schema_editor):
    Organization = apps.get_model("core", "Organization")
    InsuranceTransfer = apps.get_model("insurance", "InsuranceTransfer")
    db = schema_editor.connection.alias
    offices = Organization.objects.using(db).filter(kind="hrss_bureau")
    top = offices.filter(code=settings.XIETONG_HRSS_OFFICE).first()
    top = top or offices.order_by(Length("path"), "pk").first()
    if top is not None:
        InsuranceTransfer.objects.using(db).filter(organization__isnull=True).update(organization=top)


class Migration(migrations.Migration):
    dependencies = [
        ("insurance", "0001_initial"),
        ("core", "0005_person_indexes"),
    ]

    operations = [migrations.RunPython(assign_top_office, migrations.RunPython.noop)]
