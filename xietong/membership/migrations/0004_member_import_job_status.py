"""Member imports move onto the one job pipeline (xietong.core.jobs): the common statuses.

Finished imports keep their status. An import that was queued, checking or writing when the node
stopped for the upgrade can no longer finish (its task was the app's own, now gone; writing is one
transaction, so nothing of it was committed): it is kept, marked failed, and says to import again.
"""

from django.db import migrations, models

INTERRUPTED = "系统升级时中断，未导入任何数据；请重新导入"


def to_job_status(apps, schema_editor):
    MemberImport = apps.get_model("membership", "MemberImport")
    MemberImport.objects.filter(status__in=["queued", "checking", "writing"]).update(
        status="failed", message=INTERRUPTED, finished_at=models.F("updated_at")
    )


def to_import_status(apps, schema_editor):
    MemberImport = apps.get_model("membership", "MemberImport")
    MemberImport.objects.filter(status="running").update(status="checking")


class Migration(migrations.Migration):
    dependencies = [
        ("membership", "0003_member_number_constraint"),
    ]

    operations = [
        migrations.RunPython(to_job_status, to_import_status),
        migrations.AlterField(
            model_name="memberimport",
            name="status",
            field=models.CharField(
                choices=[("queued", "排队中"), ("running", "进行中"), ("done", "已完成"), ("failed", "失败")],
                default="queued",
                max_length=12,
                verbose_name="状态",
            ),
        ),
    ]
