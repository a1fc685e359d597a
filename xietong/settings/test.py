"""Settings for the test suite: fast hashing, a fixed throw-away PII key, no key files on disk."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
XIETONG_PII_KEY = "dGVzdC1vbmx5LWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE"  # 32 bytes, base64url, tests only
XIETONG_PII_KEY_AUTOCREATE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["NAME"] = ":memory:"  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": None}  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
XIETONG_GROUP_KEY = "Z3JvdXAtbWF0Y2gta2V5LWZvci10ZXN0cy0wMTIzNDU"  # tests only
XIETONG_NODE_SIGNING_KEY = "cGrtG0kRmSoPS7hFb4wB3y8Cq5tNf9dZLYq2XkSdJ1M"  # tests only
# A node identity of its own, whatever var/node.env (``xietong node init``) says on this machine.
XIETONG_NODE_ID = XIETONG_HUB_NODE_ID = "bj"
XIETONG_NODE_NAME = "北京节点"
XIETONG_HUB_PUBLIC_KEY = XIETONG_HUB_ENDPOINT = ""
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}  # run at once in tests
CACHES = {  # cleared before each test (conftest.py)
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"},
}
