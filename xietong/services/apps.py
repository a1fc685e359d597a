from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    """Worker services (职工服务): the three-level service network, 12351 service requests, the
    knowledge base of standard answers, legal aid and universal benefits on the card (issue 14 §1–3)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.services"
    verbose_name = _("职工服务")

    def ready(self) -> None:
        from xietong.membership import desk

        from . import actions, messages  # noqa: F401 - declares the message kinds this app receives

        # The card desk offers this app's benefit items (普惠服务项目) and redeems them here.
        desk.register(actions.DeskBenefitItems())
