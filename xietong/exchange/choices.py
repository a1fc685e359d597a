"""Choices of the exchange app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    OUT = "out", _("发出")
    IN = "in", _("收到")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("待投递")
    ACKED = "acked", _("已送达并处理")
    REFUSED = "refused", _("对方拒绝")
    APPLIED = "applied", _("已处理")
    REJECTED = "rejected", _("已拒绝")
    # Incoming: stored and acknowledged, applied by the exchange worker (once the files it names have
    # arrived); outgoing: its files could not be delivered (FAILED).
    WAITING = "waiting", _("已接收，待处理")
    FAILED = "failed", _("文件传送失败")


class FileState(models.TextChoices):
    PENDING = "pending", _("传送中")
    COMPLETE = "complete", _("已完整")
    FAILED = "failed", _("失败")
