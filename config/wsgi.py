import os

from django.core.wsgi import get_wsgi_application

from core.wsgi import without_non_text_charsets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = without_non_text_charsets(get_wsgi_application())
