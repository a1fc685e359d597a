from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """The exchange between regional nodes: transport only. The domain apps declare the message
    kinds they receive in their own ``messages.py`` (ADR 012)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.exchange"
    verbose_name = _("跨区域交换")

    def ready(self) -> None:
        from xietong.core import metrics
        from xietong.core.audit import register_detail

        from . import messages  # noqa: F401 - the kind the exchange receives itself (exchange.rejected)
        from .metrics import exchange_metrics
        from .selectors import node_name

        # Audit details keep the peer's node id; staff read the node's name from the registry.
        register_detail("from", _("来源节点"), node_name)
        register_detail("to", _("目标节点"), node_name)
        metrics.register("exchange", exchange_metrics)
