"""Large Excel exports written in the background (issue 16)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from .base import BackgroundJob


class ExportJob(BackgroundJob):
    """One export of a list too long to write inside a request: who asked, which list
    (``view``, the dotted path of its ``ScopedListView``), with which filter parameters, the file
    once written, and until when it is kept.

    A job of the one pipeline (``xietong.core.jobs``): ``actions.export_job_run`` re-reads the list
    as its creator with the same parameters and writes the workbook a row at a time. The file lives
    under ``MEDIA_ROOT/exports/`` and is served only through the scoped download view, which audits
    every download; after ``expires_at`` the row and its file are removed (``actions.export_jobs_purge``).
    ``organization`` is the creator's: officers whose scope of ``permission`` covers it may download
    it too, nobody else.
    """

    runner: ClassVar[str] = "xietong.core.actions.export_job_run"
    progress_fields = ("written_rows", "total_rows")
    progress_text = _("已写入 %(done)s / %(total)s 行")

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("所属组织"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    view = models.CharField(_("列表"), max_length=200)
    list_path = models.CharField(_("列表地址"), max_length=200)
    permission = models.CharField(_("所需权限"), max_length=100)
    params = models.JSONField(_("筛选条件"), default=dict, blank=True)
    filename = models.CharField(_("文件名"), max_length=200)
    target_type = models.CharField(_("导出对象"), max_length=100)
    file = models.FileField(_("文件"), upload_to="exports/", blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    written_rows = models.PositiveIntegerField(_("已写入"), default=0)
    expires_at = models.DateTimeField(_("保留至"), null=True, blank=True)

    class Meta(BackgroundJob.Meta):
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return self.filename

    @property
    def expired(self) -> bool:
        """Whether the file is past its keeping time (it is then no longer offered)."""
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def result_links(self) -> list[tuple[str, str]]:
        """The workbook, once written and while it is kept."""
        if self.status != "done" or not self.file or self.expired:
            return []
        label = gettext_now("下载 %(name)s（%(rows)s 行）") % {
            "name": self.filename,
            "rows": self.written_rows,
        }
        return [(label, reverse("core:export_download", args=[self.pk]))]
