"""Access to the application's runtime from a request."""

from flask import current_app

from cati.runtime import Runtime


def get_runtime() -> Runtime:
    return current_app.extensions["cati"]
