"""The node's PII key rotations: the background job that re-encrypts and re-indexes existing rows."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import BackgroundJob


class PiiKeyRotation(BackgroundJob):
    """One switch of the PII key (``xietong keys rotate-pii``): ``key_id`` is current from the moment
    the row is made; the job (``actions.pii_key_rotation_run``) rewrites every encrypted
    column and blind index of every table in ``actions.PII_TABLES`` in batches, keyset by primary key.

    Resumable: the table it is in (``table``), the last primary key done there (``last_pk``) and the
    rows done are saved in the transaction of each batch, so a job whose worker was killed continues
    where it stopped once re-queued (``keys rotate-pii --resume``). Node-wide, not scoped to an
    organisation; shown to node administrators on the operator page.
    """

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "queued": ("running", "failed"),
        "running": ("done", "failed", "queued"),  # queued again: a worker killed mid-run
        "failed": ("queued",),
    }
    runner: ClassVar[str] = "xietong.core.actions.pii_key_rotation_run"
    progress_fields = ("done_rows", "total_rows")
    progress_text = _("已重新加密 %(done)s / %(total)s 行")
    scope_field = None

    key_id = models.CharField(_("新密钥编号"), max_length=32)
    old_key_ids = models.JSONField(_("被替换的密钥编号"), default=list)
    table = models.PositiveSmallIntegerField(_("当前数据表序号"), default=0)
    last_pk = models.BigIntegerField(_("已处理到的主键"), default=0)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)

    class Meta(BackgroundJob.Meta):
        verbose_name = _("个人信息密钥轮换")
        verbose_name_plural = _("个人信息密钥轮换")

    def __str__(self) -> str:
        return str(_("个人信息密钥轮换至 %(key)s")) % {"key": self.key_id}
