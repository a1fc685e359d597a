from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembershipConfig(AppConfig):
    """The membership app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.membership"
    verbose_name = _("会员")

    def ready(self) -> None:
        from xietong.core.audit import register_detail

        # Audit details in words: the facts membership actions keep.
        register_detail("transfer", _("组织关系转接编号"))
