"""Bulk imports of a union's member roll, run in the background with progress."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models import BackgroundJob

from ..choices import ImportStatus


class MemberImport(BackgroundJob):
    """One uploaded roll file and what became of it: progress, counts, the error report.

    The file and the report live under ``MEDIA_ROOT/imports/`` and are served only through the
    scoped view. ``skip_invalid`` imports the good rows when some are bad; by default a file with
    any bad row commits nothing. ``dry_run`` only checks.
    """

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
    status = models.CharField(
        _("状态"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
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

    @property
    def percent(self) -> int:
        """How far the check has got, for the progress bar."""
        return self.progress(self.checked_rows, self.total_rows)
