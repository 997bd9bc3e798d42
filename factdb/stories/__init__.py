"""Story files: a whole story (speakers, sources, claims and everything said about them) as one
TOML document that people edit and desks exchange.

- :mod:`factdb.stories.spec`     the keys of each table, their types and what they mean
- :mod:`factdb.stories.lines`    line numbers of tables and keys, for error messages
- :mod:`factdb.stories.read`     parse and check a file without the database
- :mod:`factdb.stories.resolve`  check its names against the database (read-only)
- :mod:`factdb.stories.apply`    write it through the services, reporting what changed
- :mod:`factdb.stories.export`   the database (or a selection) as a story document
- :mod:`factdb.stories.template` the commented template of ``factdb story new``

The format is documented for users in docs/story-files.md.
"""
