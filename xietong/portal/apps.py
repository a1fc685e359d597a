from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The member portal (掌上工会, issue 14 §4): members sign in with their phone number and a
    one-time code and see their e-card, union, benefits, service requests, applications and
    notifications. It builds on membership and services and nothing builds on it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "xietong.portal"
    verbose_name = _("掌上工会")
