"""The official working-day calendar of a year, as an operator entered it from the State Council's
notice: it wins over the packaged calendar (``xietong.lib.workdays``) for legal time limits."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import BaseModel


class WorkCalendarYear(BaseModel):
    """One year's public holidays and make-up working days (调休上班日), with where they came from.

    Node-wide reference data: every deadline on the node counts with it."""

    scope_field: ClassVar[str | None] = None

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    holidays = models.JSONField(_("放假日期"), default=list, help_text=_("ISO 日期列表"))
    workdays = models.JSONField(_("调休上班日期"), default=list, blank=True, help_text=_("ISO 日期列表"))
    source = models.CharField(
        _("依据"), max_length=200, blank=True, help_text=_("如 国务院办公厅关于2027年部分节假日安排的通知")
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")

    def __str__(self) -> str:
        return f"{self.year}"

    def holiday_dates(self) -> list[dt.date]:
        return [dt.date.fromisoformat(day) for day in self.holidays]

    def workday_dates(self) -> list[dt.date]:
        return [dt.date.fromisoformat(day) for day in self.workdays]
