"""factdb: a fact-check database with a command-line interface."""

__version__ = "0.1.0"
