"""Accounts and roles: a role is granted at an organisation and reaches its whole subtree."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, Permission
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import BaseModel, CleanTextMixin, RestrictedQuerySet


class UserManager(DjangoUserManager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    """Django's user manager with ``restrict()``: users are scoped by their home organisation."""


class User(CleanTextMixin, AbstractUser):
    """A person who signs in: a union officer, an HRSS officer, a node administrator, a service point.

    ``organization`` is the account's home organisation; what it may do, and where, comes from its
    ``RoleAssignment`` rows, not from Django's per-user permissions.
    """

    scope_field: ClassVar[str | None] = "organization"

    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("所属组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")
        permissions = [("manage_accounts", _("管理账号和角色"))]

    def __str__(self) -> str:
        return self.display_name or self.username

    @classmethod
    def scope_lookup(cls) -> str:
        return "organization__path"


class Role(BaseModel):
    """A named set of permissions (e.g. 工会干部, 人社经办人员, 节点管理员), granted at organisations."""

    scope_field: ClassVar[str | None] = None

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    description = models.TextField(_("说明"), blank=True)
    permissions = models.ManyToManyField(Permission, verbose_name=_("权限"), blank=True)
    grantable = models.ManyToManyField(
        "self",
        verbose_name=_("可授予的角色"),
        symmetrical=False,
        blank=True,
        related_name="granted_by",
        help_text=_("持有本角色的账号管理员可以授予他人的角色（ADR 011）"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("角色")
        verbose_name_plural = _("角色")

    def __str__(self) -> str:
        return self.name


class RoleAssignment(BaseModel):
    """A role held by an account at an organisation; it reaches the organisation's subtree
    (and the unions under it by dual management). No organisation means the whole node."""

    user = models.ForeignKey(
        User, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(
        Role, verbose_name=_("角色"), on_delete=models.PROTECT, related_name="assignments"
    )
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("授权范围"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )

    class Meta:
        verbose_name = _("角色授予")
        verbose_name_plural = _("角色授予")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "organization"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        scope = self.organization.name if self.organization else _("全节点")
        return f"{self.user} · {self.role} @ {scope}"
