"""Organisations (unions, HRSS bureaus …) as a tree, their dual-management links, and employers."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.lib import creditcode

from ..choices import AffiliationKind, OrganizationKind
from .base import BaseModel


class Organization(BaseModel):
    """A union, federation, HRSS bureau or other body that uses Xietong; the tree of scopes.

    ``path`` is the materialised path of primary keys (``/1/5/12/``): a subtree is one indexed
    ``startswith`` query, which is how every scoped read narrows rows (``RestrictedQuerySet``).
    """

    scope_field: ClassVar[str | None] = ""

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类别"), max_length=32, choices=OrganizationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    region = models.ForeignKey("core.Region", verbose_name=_("所在地区"), on_delete=models.PROTECT)
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(_("层级"), default=0, editable=False)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("组织")
        verbose_name_plural = _("组织")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.pk and self.parent_id:
            parent = self.parent
            if parent is not None and parent.path.startswith(self.path or f"/{self.pk}/"):
                raise ValidationError({"parent": _("上级组织不能是本组织或其下级组织")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, then keep ``path`` and ``depth`` (and those of the whole subtree) in step with ``parent``."""
        old_path = self.path
        super().save(*args, **kwargs)
        parent_path = self.parent.path if self.parent_id and self.parent else "/"
        new_path = f"{parent_path}{self.pk}/"
        if new_path != old_path:
            depth = new_path.count("/") - 2
            Organization.objects.filter(pk=self.pk).update(path=new_path, depth=depth)
            self.path, self.depth = new_path, depth
            if old_path:
                for child in Organization.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                    child.path = new_path + child.path[len(old_path) :]
                    child.depth = child.path.count("/") - 2
                    Organization.objects.filter(pk=child.pk).update(path=child.path, depth=child.depth)

    @property
    def is_union(self) -> bool:
        return self.kind in OrganizationKind.union_kinds()

    def ancestors(self) -> models.QuerySet[Organization]:
        """The organisations above this one, root first."""
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1] if part]
        return Organization.objects.filter(pk__in=ids).order_by("depth")


class Affiliation(BaseModel):
    """A second, non-tree link: a union managed both by its tree parent and by another body (双重管理).

    A role held at ``parent`` reaches ``organization`` and its subtree too.
    """

    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="affiliations"
    )
    parent = models.ForeignKey(
        Organization, verbose_name=_("共同管理组织"), on_delete=models.CASCADE, related_name="affiliated"
    )
    kind = models.CharField(
        _("类别"), max_length=32, choices=AffiliationKind.choices, default=AffiliationKind.DUAL_MANAGEMENT
    )

    class Meta:
        verbose_name = _("双重管理关系")
        verbose_name_plural = _("双重管理关系")
        constraints = [
            models.UniqueConstraint(fields=["organization", "parent"], name="affiliation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ← {self.parent}"


def validate_credit_code(value: str) -> None:
    """Model-level check of a unified social credit code, with the library's Chinese message."""
    try:
        creditcode.parse(value)
    except creditcode.InvalidCreditCode as exc:
        raise ValidationError(str(exc)) from exc


class Employer(BaseModel):
    """An employer (用人单位), identified by its unified social credit code (GB 32100).

    ``organization`` is the union whose scope covers it (its grassroots union, or the federation
    of its district); that is what scopes who may see it.
    """

    name = models.CharField(_("单位名称"), max_length=128, db_index=True)
    credit_code = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_credit_code],
    )
    region = models.ForeignKey("core.Region", verbose_name=_("所在地区"), on_delete=models.PROTECT)
    organization = models.ForeignKey(
        Organization, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="employers"
    )
    sector = models.CharField(_("行业"), max_length=64, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("用人单位")
        verbose_name_plural = _("用人单位")

    def __str__(self) -> str:
        return self.name
