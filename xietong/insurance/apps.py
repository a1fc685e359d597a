from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsuranceConfig(AppConfig):
    """社会保险 (HRSS): insurance transfers between regions, benefit rosters and eligibility certification."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.insurance"
    verbose_name = _("社会保险")

    def ready(self) -> None:
        from xietong.core.audit import register_detail, register_field_value
        from xietong.exchange.selectors import node_name

        from . import messages  # noqa: F401 - declares the message kinds this app receives

        # Audit details in words: the facts these actions keep, and nodes by their registry name.
        register_detail("chunk", _("批次"))
        register_detail("findings", _("核查发现数"))
        register_detail("finding", _("核查发现编号"))
        register_detail("letter", _("生成告知书"))
        register_detail("run", _("认证批次编号"))
        register_detail("assigned_to", _("分派给"))
        for model, field in (
            ("insurance.insurancetransfer", "receiving_node"),
            ("insurance.insurancetransfer", "sending_node"),
            ("insurance.certificationrequest", "partner"),
            ("insurance.certificationfinding", "partner"),
        ):
            register_field_value(model, field, node_name)
