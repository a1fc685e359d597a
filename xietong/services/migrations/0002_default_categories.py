"""The nine request categories every node starts with (issue 14 §2), with the default limits:
acknowledge within 1 working day, answer within 5. Nodes change them afterwards."""

from django.db import migrations

DEFAULTS = (
    ("policy", "政策咨询", False),
    ("legal_aid", "法律援助", True),
    ("hardship", "困难帮扶", False),
    ("mutual_aid", "互助保障", False),
    ("employment", "就业创业", False),
    ("skills", "技能培训", False),
    ("living", "生活服务", False),
    ("complaint", "权益投诉", False),
    ("suggestion", "意见建议", False),
)


def add_defaults(apps, schema_editor):
    category = apps.get_model("services", "ServiceCategory")
    for order, (code, name, legal_aid) in enumerate(DEFAULTS, start=1):
        category.objects.get_or_create(
            code=code, defaults={"name": name, "legal_aid": legal_aid, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
