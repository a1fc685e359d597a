"""Administrative divisions (GB/T 2260)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import RegionLevel
from .base import BaseModel


class Region(BaseModel):
    """An administrative division by its GB/T 2260 six-digit code (行政区划代码).

    Loaded from python-stdnum's maintained table (``xietong regions load``), historical codes
    included: an ID number issued by an abolished district (110104, 原宣武区) stays valid for life,
    so abolished codes are kept and marked rather than deleted.
    """

    scope_field: ClassVar[str | None] = None

    code = models.CharField(_("行政区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    full_name = models.CharField(_("全称"), max_length=128)
    level = models.CharField(_("级别"), max_length=12, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    abolished = models.BooleanField(_("已撤销"), default=False)
    valid_from = models.PositiveSmallIntegerField(_("设立年份"), null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(_("撤销年份"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.full_name
