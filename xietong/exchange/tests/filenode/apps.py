from django.apps import AppConfig


class FileNodeConfig(AppConfig):
    """Registers the test kind ``test.files`` when the node starts."""

    name = "xietong.exchange.tests.filenode"
    label = "exchange_filenode"

    def ready(self) -> None:
        from . import messages  # noqa: F401 - fills the kind registry
