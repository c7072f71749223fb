"""cati: telephone follow-up surveys of citizens served by Vietnamese one-stop offices."""

__version__ = "0.1.0"
