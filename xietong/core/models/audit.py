"""The tamper-evident audit log: who did what to which record, hash-chained."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.lib.crypto import canonical_json

from ..choices import AuditAction
from .base import RestrictedQuerySet

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One entry of the audit log. Rows are only ever appended (``xietong.core.audit.record``).

    ``hash`` is SHA-256 over the previous row's hash and this row's content, so editing or deleting
    any row breaks the chain from that row on; ``xietong audit verify`` recomputes it and names the
    first broken link.
    """

    scope_field: ClassVar[str | None] = "organization"

    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_username = models.CharField(_("操作账号"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=32, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=64, db_index=True)
    target_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    target_repr = models.CharField(_("对象"), max_length=200, blank=True)
    organization = models.ForeignKey(
        "core.Organization", verbose_name=_("所属组织"), null=True, blank=True, on_delete=models.SET_NULL
    )
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M:%S}"
        return f"{when} {self.actor_username} {self.get_action_display()} {self.target_repr}"

    @classmethod
    def scope_lookup(cls) -> str:
        return "organization__path"

    def content(self) -> dict[str, Any]:
        """The fields the hash covers, in a stable JSON-safe form."""
        return {
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_repr": self.target_repr,
            "organization_id": self.organization_id,
            "changes": self.changes,
            "ip_address": self.ip_address,
        }

    def compute_hash(self) -> str:
        """SHA-256 of the previous hash followed by this row's canonical JSON content."""
        digest = hashlib.sha256(self.prev_hash.encode("ascii"))
        digest.update(canonical_json(self.content()))
        return digest.hexdigest()
