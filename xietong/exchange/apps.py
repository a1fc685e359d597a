from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """The exchange between regional nodes, and the services that ride on it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.exchange"
    verbose_name = _("跨区域交换")

    def ready(self) -> None:
        from . import handlers  # noqa: F401 - declares the message kinds received
