"""The service network (三级服务体系): service centres at city, district and street level and the
grassroots service stations (基层工会服务站), each attached to its union."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xietong.core.models.base import BaseModel

from ..choices import StationLevel


class ServiceStation(BaseModel):
    """A service centre or station: where it is, when it is open, how to call it, what it offers.

    It belongs to its union (``organization``); the union's staff with a services role manage it
    (staff accounts are role assignments at that union). ``district`` is the administrative
    division the public directory files it under; ``services`` are the request categories it
    handles, so a worker can look for a station by what they need.
    """

    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("所属工会"),
        on_delete=models.PROTECT,
        related_name="service_stations",
    )
    name = models.CharField(_("名称"), max_length=128)
    level = models.CharField(_("层级"), max_length=12, choices=StationLevel.choices)
    district = models.ForeignKey("core.Region", verbose_name=_("所在区县"), on_delete=models.PROTECT)
    address = models.CharField(_("地址"), max_length=200)
    hours = models.CharField(_("开放时间"), max_length=100, blank=True)
    phone = models.CharField(_("服务电话"), max_length=32, blank=True)
    services = models.ManyToManyField(
        "services.ServiceCategory", verbose_name=_("服务项目"), blank=True, related_name="stations"
    )
    description = models.TextField(_("简介"), blank=True)
    active = models.BooleanField(_("对外开放"), default=True)

    class Meta:
        verbose_name = _("职工服务站点")
        verbose_name_plural = _("职工服务站点")
        ordering = ["district_id", "level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="services_station_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
