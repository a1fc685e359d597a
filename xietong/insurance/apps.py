from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsuranceConfig(AppConfig):
    """社会保险 (HRSS): insurance transfers between regions, benefit rosters and eligibility certification."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.insurance"
    verbose_name = _("社会保险")

    def ready(self) -> None:
        from . import messages  # noqa: F401 - declares the message kinds this app receives
