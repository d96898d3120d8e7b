"""WSGI entry point for gunicorn: `gunicorn service.wsgi:app` (the model loads at import, i.e. preload)."""

from . import create_app

app = create_app()
