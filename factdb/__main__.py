"""Allow ``python -m factdb``."""

from factdb.cli import main

main()
