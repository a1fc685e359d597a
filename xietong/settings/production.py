"""Production settings: PostgreSQL and secrets from the environment, secure cookies, no key autocreation.

Required: ``DATABASE_URL``, ``XIETONG_SECRET_KEY``, ``XIETONG_PII_KEY``, ``XIETONG_NODE_SIGNING_KEY``,
``XIETONG_ALLOWED_HOSTS``.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

for _name in (
    "DATABASE_URL",
    "XIETONG_SECRET_KEY",
    "XIETONG_PII_KEY",
    "XIETONG_NODE_SIGNING_KEY",
    "XIETONG_ALLOWED_HOSTS",
):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"生产环境必须设置环境变量 {_name}")

DEBUG = False
XIETONG_PII_KEY_AUTOCREATE = False
SESSION_COOKIE_SECURE = env_bool("XIETONG_SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_HSTS_SECONDS = int(os.environ.get("XIETONG_HSTS_SECONDS", "0"))
# One JSON object a line for the log collector, unless XIETONG_LOG_FORMAT says otherwise.
XIETONG_LOG_FORMAT = os.environ.get("XIETONG_LOG_FORMAT", "json")
LOGGING = logging_config(XIETONG_LOG_FORMAT)  # noqa: F405
