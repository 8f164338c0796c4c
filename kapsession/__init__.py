"""kapsession: session companion for the ketamine-assisted psychotherapy treatment room."""

__version__ = "0.1.0"
APP_NAME = "kapsession"
