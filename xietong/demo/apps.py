from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Builds the demo world (``xietong demo``)."""

    name = "xietong.demo"
    label = "demo"
    verbose_name = "演示数据"
