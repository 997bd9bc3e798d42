"""Which functions a PostgreSQL query given to ``factdb sql`` calls, and which it may not.

A ``READ ONLY`` transaction that is rolled back undoes every change to a table, but some
functions act outside any transaction. :func:`refuse_denied_functions` finds every call in the
statement (by name, however it is quoted or qualified) and refuses those of the deny-list.
"""

from __future__ import annotations

import re

from factdb.sqlguard import SqlRefused, _skip

# Functions that act outside the transaction, so that the rollback at the end cannot undo them
# (configuration, other sessions, WAL, statistics, files, sequences, locks, notifications,
# large objects), or that run SQL given as a string, which this guard could not check. A
# restricted role (docs/postgres.md) is the real fence; this list refuses them even for a
# superuser. Names match with or without a schema and quoting; prefixes end in "_".
DENIED_PG_FUNCTIONS = {
    "brin_desummarize_range",
    "brin_summarize_new_values",
    "brin_summarize_range",
    "gin_clean_pending_list",
    "nextval",
    "pg_cancel_backend",
    "pg_current_xact_id",
    "pg_export_snapshot",
    "pg_log_backend_memory_contexts",
    "pg_notify",
    "pg_prewarm",
    "pg_promote",
    "pg_reload_conf",
    "pg_replication_slot_advance",
    "pg_rotate_logfile",
    "pg_stat_file",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_switch_wal",
    "pg_switch_xlog",
    "pg_terminate_backend",
    "pg_truncate_visibility_map",
    "set_config",
    "setval",
    "ts_stat",
    "txid_current",
}
DENIED_PG_PREFIXES = (
    "cursor_to_xml",
    "dblink",
    "lo_",
    "loread",
    "lowrite",
    "pg_advisory_",
    "pg_backup_",
    "pg_copy_",
    "pg_create_",
    "pg_drop_replication_",
    "pg_file_",
    "pg_import_",
    "pg_logical_",
    "pg_ls_",
    "pg_read_",
    "pg_replication_origin_",
    "pg_stat_reset",
    "pg_stat_statements_reset",
    "pg_try_advisory_",
    "pg_wal_replay_",
    "query_to_xml",
)

_WORD = re.compile(r"[A-Za-z_\x80-\uffff][A-Za-z_0-9$\x80-\uffff]*")


def _quoted_identifier(sql: str, i: int) -> tuple[str, int]:
    """The name of the double-quoted identifier at ``i`` (``U&"…"`` decoded), and its end."""
    unicode = sql[i : i + 3].lower() == 'u&"'
    start = i + 2 if unicode else i
    end = _skip(sql, start, "postgresql")
    name = sql[start + 1 : end - 1].replace('""', '"')
    if unicode:
        if re.match(r"\s*uescape\b", sql[end:], re.IGNORECASE):
            raise SqlRefused('U&"…" identifiers with UESCAPE are not supported by factdb sql')
        name = re.sub(
            r"\\(\\|\+[0-9A-Fa-f]{6}|[0-9A-Fa-f]{4})",
            lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1).lstrip("+"), 16)),
            name,
        )
    return name, end


def called_functions(sql: str) -> set[str]:
    """The names of the functions ``sql`` (PostgreSQL) calls: any name followed by ``(``.

    Strings and comments are skipped; quoted (also ``U&"…"``) and schema-qualified names are
    reduced to the function's own name. Lower-cased, as PostgreSQL folds unquoted names.
    """
    names: set[str] = set()
    previous: str | None = None  # the name just read, if nothing but blanks followed it yet
    i = 0
    while i < len(sql):
        c = sql[i]
        if c == '"' or sql[i : i + 3].lower() == 'u&"':
            previous, i = _quoted_identifier(sql, i)
            previous = previous.lower()
            continue
        j = _skip(sql, i, "postgresql")
        if j != i:  # a comment keeps the name before it; a string ends it
            previous = previous if sql[i] in "-/" else None
            i = j
            continue
        word = _WORD.match(sql, i)
        if word:
            previous, i = word.group(0).lower(), word.end()
            continue
        if c == "(" and previous:
            names.add(previous)
        if not c.isspace() and c != ".":
            previous = None
        elif c == "." and previous:
            previous = None  # a schema name: the function's own name follows the dot
        i += 1
    return names


def refuse_denied_functions(sql: str) -> None:
    """Raise SqlRefused if the PostgreSQL statement calls a function of the deny-list."""
    for name in sorted(called_functions(sql)):
        if name in DENIED_PG_FUNCTIONS or name.startswith(DENIED_PG_PREFIXES):
            raise SqlRefused(
                f"function {name}() is not allowed: it acts outside the read-only transaction"
            )
