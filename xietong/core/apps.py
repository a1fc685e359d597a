from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Regions, organisations, employers, people, accounts, roles and the audit log."""

    name = "xietong.core"
    label = "core"
    verbose_name = _("基础数据")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401  (connects the handlers)
        from .ratelimit import create_cache_table

        post_migrate.connect(create_cache_table, sender=self)
        from . import home

        home.discover()  # each app's home.py registers its to-dos, panels, landings and checks
