"""The HTTP interface: a Flask app speaking Frappe's REST API (``/api/method``, ``/api/resource``).

This package is the only place that imports Flask. ``create_app()`` is the WSGI
factory: ``gunicorn 'engine.web:create_app()'`` serves the site named by the
environment (``DOCFRAME_DATABASE_URL``, ``DOCFRAME_APP``, ``DOCFRAME_SECRET_KEY``).
"""

from engine.web.app import create_app

__all__ = ["create_app"]
