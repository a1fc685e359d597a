from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    """Worker services (职工服务): the three-level service network, 12351 service requests, the
    knowledge base of standard answers, legal aid and universal benefits on the card (issue 14 §1–3)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.services"
    verbose_name = _("职工服务")

    def ready(self) -> None:
        from xietong.core.audit import register_detail, register_field_value
        from xietong.exchange.selectors import node_name
        from xietong.membership import desk

        from . import actions, messages  # noqa: F401 - declares the message kinds this app receives

        # The card desk offers this app's benefit items (普惠服务项目) and redeems them here.
        desk.register(actions.DeskBenefitItems())
        # Audit details in words: the facts these actions keep, and nodes by their registry name.
        register_detail("union", _("接收工会"))
        register_detail("assigned_to", _("分派给"))
        register_detail("escalated_to", _("上报至"))
        register_detail("entry", _("记录类型"))
        register_detail("attachment", _("附件"))
        register_detail("followup", _("回访"))
        register_field_value("services.servicerequest", "handled_by", node_name)
        register_field_value("services.servicerequest", "origin_node", node_name)
