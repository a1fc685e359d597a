"""Staff notifications (issue 12 §2): what happened in the account's scope that it must act on."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import BaseModel


class Notification(BaseModel):
    """One message to one account: a new application in its scope, a transfer step due, findings
    arrived, an import finished. ``key`` names the record (and the step) it is about, so that
    ``actions.notify`` can refuse a second one of the same ``kind`` for the same recipient: a retried
    job or a command run twice never duplicates a notification.

    Belongs to its recipient, not to an organisation: an account reads only its own."""

    scope_field: ClassVar[str | None] = None

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类别"), max_length=64)
    key = models.CharField(_("对象"), max_length=128, blank=True)
    text = models.CharField(_("内容"), max_length=300)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "key"], name="notification_once"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text

    @property
    def unread(self) -> bool:
        return self.read_at is None
