"""A node's settings plus the test kind ``test.files`` and slower chunk uploads (the two-node file
test only)."""

from xietong.settings.base import *  # noqa: F403
from xietong.settings.base import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "xietong.exchange.tests.filenode.apps.FileNodeConfig"]
MIDDLEWARE = [*MIDDLEWARE, "xietong.exchange.tests.filenode.middleware.slow_chunks"]
