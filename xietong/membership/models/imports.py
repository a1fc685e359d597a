"""Bulk imports of a union's member roll, run in the background with progress."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from xietong.core.models import BackgroundJob


class MemberImport(BackgroundJob):
    """One uploaded roll file and what became of it: progress, counts, the error report.

    The file and the report live under ``MEDIA_ROOT/imports/`` and are served only through the
    scoped view. ``skip_invalid`` imports the good rows when some are bad; by default a file with
    any bad row commits nothing. ``dry_run`` only checks. A job of the one pipeline
    (``xietong.core.jobs``): ``actions.member_import_run`` does the work, checking and then writing
    while the job is ``running``.
    """

    runner = "xietong.membership.actions.member_import_run"
    progress_fields = ("checked_rows", "total_rows")
    # Writing is one transaction: a worker that dies mid-way leaves nothing of the import behind.
    interrupted_message = _("后台进程中断，导入未完成，未写入任何数据，可重新开始")
    progress_text = _("已校验 %(done)s / %(total)s 行")

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("导入到工会"),
        on_delete=models.PROTECT,
        related_name="member_imports",
    )
    file = models.FileField(_("文件"), upload_to="imports/")
    original_name = models.CharField(_("文件名"), max_length=200)
    skip_invalid = models.BooleanField(_("跳过有误的行，导入其余"), default=False)
    dry_run = models.BooleanField(_("只校验，不导入"), default=False)
    issue_cards = models.BooleanField(_("为新增会员发放互助服务卡"), default=False, db_default=False)
    cards_issued = models.PositiveIntegerField(_("发卡数"), default=0, db_default=0)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    checked_rows = models.PositiveIntegerField(_("已校验"), default=0)
    invalid_rows = models.PositiveIntegerField(_("有误的行"), default=0)
    created_count = models.PositiveIntegerField(_("新增会员"), default=0)
    updated_count = models.PositiveIntegerField(_("更新会员"), default=0)
    report = models.FileField(_("错误报告"), upload_to="imports/", blank=True)

    class Meta(BackgroundJob.Meta):
        verbose_name = _("会员导入")
        verbose_name_plural = _("会员导入")

    def __str__(self) -> str:
        return self.original_name

    def result_links(self) -> list[tuple[str, str]]:
        """The error report, once there is one."""
        if not self.report:
            return []
        label = gettext_now("下载错误报告（%(count)s 行有误）") % {"count": self.invalid_rows}
        return [(label, reverse("membership:import_report", args=[self.pk]))]
