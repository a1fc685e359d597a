"""The long-running processes of this node (web, task worker, exchange worker) as they last reported:
heartbeats, and the embedded supervisor's record of exits and restarts (issue 15 §1)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import BaseModel


class ProcessState(BaseModel):
    """One process of the node by its role (``web``, ``worker``, ``exchange``): its last heartbeat
    and, when ``xietong serve`` supervises it, its restarts and last exit. Node-wide operational data,
    read by ``/health/`` and the operator page; not audited (it changes every few seconds)."""

    scope_field: ClassVar[str | None] = None

    class State(models.TextChoices):
        RUNNING = "running", _("运行中")
        RESTARTING = "restarting", _("等待重启")
        STOPPED = "stopped", _("已停止")

    name = models.SlugField(_("进程"), max_length=32, unique=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.RUNNING)
    pid = models.PositiveIntegerField(_("进程号"), null=True, blank=True)
    host = models.CharField(_("主机"), max_length=255, blank=True)
    since = models.DateTimeField(_("本次启动时间"), null=True, blank=True)
    beat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    supervised = models.BooleanField(_("由内置守护进程管理"), default=False)
    restarts = models.PositiveIntegerField(_("重启次数"), default=0)
    last_exit = models.CharField(_("最近退出"), max_length=100, blank=True)
    last_exit_at = models.DateTimeField(_("最近退出时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误输出"), blank=True)

    class Meta:
        verbose_name = _("节点进程")
        verbose_name_plural = _("节点进程")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
