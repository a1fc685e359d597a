from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    """Worker services (职工服务): the three-level service network, 12351 service requests, the
    knowledge base of standard answers and legal aid (issue 14 §1–2)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.services"
    verbose_name = _("职工服务")

    def ready(self) -> None:
        from . import messages  # noqa: F401 - declares the message kinds this app receives
