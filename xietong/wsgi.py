"""WSGI entry point (gunicorn xietong.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings.base")
application = get_wsgi_application()
