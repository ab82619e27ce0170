"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from twofold.app import create_app

app = create_app()
