"""The WSGI entry point: ``gunicorn wsgi:app``."""

from escalation import create_app

app = create_app()
