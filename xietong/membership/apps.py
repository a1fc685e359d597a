from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembershipConfig(AppConfig):
    """The membership app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.membership"
    verbose_name = _("会员")
