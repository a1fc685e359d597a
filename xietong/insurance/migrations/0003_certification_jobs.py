"""Roster imports, certification runs and the comparisons done for partners move onto the one job
pipeline (xietong.core.jobs, ADR 013): the common statuses, every row kept.

- Rosters: finished imports keep their status; one queued, checking or writing at the upgrade can no
  longer finish (its task was the app's own, now gone; writing is one transaction, so nothing of it was
  committed): it is marked failed and says to import again.
- Runs: a run's job ends once its requests are in the outbox; the wait for the partners becomes the
  run's ``stage``. waiting → done + stage waiting; done → done + stage complete; failed stays failed;
  sending (one transaction, nothing sent) → failed, saying to start the run again.
- Comparisons for partners (``CertificationAssistance``, now a job): done and failed stay; one still
  queued is marked failed (the requester's run does not get this chunk's answer: the operator guide
  says to run the queue empty before upgrading).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ROSTER_INTERRUPTED = "系统升级时中断，未导入任何数据；请重新导入"
RUN_INTERRUPTED = "系统升级时中断，未发送；请重新发起资格认证"
ASSIST_INTERRUPTED = "系统升级时中断，未比对"


def to_job_status(apps, schema_editor):
    BenefitRoster = apps.get_model("insurance", "BenefitRoster")
    EligibilityCheck = apps.get_model("insurance", "EligibilityCheck")
    CertificationAssistance = apps.get_model("insurance", "CertificationAssistance")
    BenefitRoster.objects.filter(status__in=["queued", "checking", "writing"]).update(
        status="failed", message=ROSTER_INTERRUPTED, finished_at=models.F("updated_at")
    )
    EligibilityCheck.objects.filter(status="waiting").update(status="done", stage="waiting")
    EligibilityCheck.objects.filter(status="done").exclude(stage="waiting").update(stage="complete")
    EligibilityCheck.objects.filter(status="sending").update(
        status="failed", message=RUN_INTERRUPTED, finished_at=models.F("updated_at")
    )
    CertificationAssistance.objects.filter(status="queued").update(
        status="failed", message=ASSIST_INTERRUPTED
    )
    CertificationAssistance.objects.filter(status__in=["done", "failed"]).update(
        finished_at=models.F("updated_at")
    )


def to_own_status(apps, schema_editor):
    BenefitRoster = apps.get_model("insurance", "BenefitRoster")
    EligibilityCheck = apps.get_model("insurance", "EligibilityCheck")
    CertificationAssistance = apps.get_model("insurance", "CertificationAssistance")
    BenefitRoster.objects.filter(status="running").update(status="checking")
    EligibilityCheck.objects.filter(status="done", stage="waiting").update(status="waiting")
    EligibilityCheck.objects.filter(status__in=["queued", "running"]).update(status="sending")
    CertificationAssistance.objects.filter(status="running").update(status="queued")


class Migration(migrations.Migration):
    dependencies = [
        ("insurance", "0002_transfer_office"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="certificationassistance",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="经办人",
            ),
        ),
        migrations.AddField(
            model_name="certificationassistance",
            name="finished_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="完成时间"),
        ),
        migrations.AddField(
            model_name="certificationrequest",
            name="error",
            field=models.CharField(blank=True, max_length=300, verbose_name="对方未能比对的原因"),
        ),
        migrations.AddField(
            model_name="eligibilitycheck",
            name="stage",
            field=models.CharField(
                blank=True,
                choices=[("waiting", "等待对方比对"), ("complete", "比对完成")],
                max_length=10,
                verbose_name="对方比对",
            ),
        ),
        migrations.RunPython(to_job_status, to_own_status),
        migrations.AlterField(
            model_name="benefitroster",
            name="status",
            field=models.CharField(
                choices=[("queued", "排队中"), ("running", "进行中"), ("done", "已完成"), ("failed", "失败")],
                default="queued",
                max_length=12,
                verbose_name="状态",
            ),
        ),
        migrations.AlterField(
            model_name="certificationassistance",
            name="status",
            field=models.CharField(
                choices=[("queued", "排队中"), ("running", "进行中"), ("done", "已完成"), ("failed", "失败")],
                default="queued",
                max_length=12,
                verbose_name="状态",
            ),
        ),
        migrations.AlterField(
            model_name="eligibilitycheck",
            name="status",
            field=models.CharField(
                choices=[("queued", "排队中"), ("running", "进行中"), ("done", "已完成"), ("failed", "失败")],
                default="queued",
                max_length=12,
                verbose_name="状态",
            ),
        ),
    ]
