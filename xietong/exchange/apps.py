from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """The exchange between regional nodes: transport only. The domain apps declare the message
    kinds they receive in their own ``messages.py`` (ADR 012)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.exchange"
    verbose_name = _("跨区域交换")
