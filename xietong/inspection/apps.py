from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionConfig(AppConfig):
    """劳动保障监察: the wage-arrears blacklist shared by the region group."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.inspection"
    verbose_name = _("劳动保障监察")

    def ready(self) -> None:
        from . import messages  # noqa: F401 - declares the message kinds this app receives
