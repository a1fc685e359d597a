from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionConfig(AppConfig):
    """劳动保障监察: the wage-arrears blacklist shared by the region group."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.inspection"
    verbose_name = _("劳动保障监察")

    def ready(self) -> None:
        from xietong.core.alerts import register_employer_alerts
        from xietong.core.audit import register_field_value
        from xietong.exchange.selectors import node_name

        from . import messages  # noqa: F401 - declares the message kinds this app receives
        from .selectors import employer_alerts

        # An employer's page warns when the region group lists it; core cannot import this app.
        register_employer_alerts(employer_alerts)
        # The audit shows the listing node by its name, not its id.
        register_field_value("inspection.arrearslisting", "origin_node", node_name)
