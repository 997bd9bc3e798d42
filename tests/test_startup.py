"""Start-up stays cheap: help never imports SQLAlchemy or Alembic, ordinary commands skip Alembic.

Each check runs in a fresh interpreter (a subprocess), because the test process itself has
long since imported SQLAlchemy through the fixtures.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from factdb.schema_version import HEAD_REVISION, KNOWN_REVISIONS

HEAVY = ("sqlalchemy", "alembic")

# Walk the whole click tree in one fresh interpreter. After each command's --help the set of
# loaded modules is checked, so the first command whose help pulls in a heavy module is named.
WALK = textwrap.dedent(
    """
    import json, sys
    import click
    from click.testing import CliRunner
    from factdb.cli import cli

    HEAVY = ("sqlalchemy", "alembic")
    runner = CliRunner()
    results = []

    def heavy_loaded():
        return sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)

    def visit(command, path):
        result = runner.invoke(cli, [*path, "--help"], catch_exceptions=True)
        results.append({
            "path": path,
            "exit_code": result.exit_code,
            "usage": result.output.startswith("Usage:"),
            "exception": None if result.exception is None or isinstance(
                result.exception, SystemExit) else repr(result.exception),
            "heavy": heavy_loaded()[:5],
        })
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=path[-1] if path else "factdb")
            for name in command.list_commands(ctx):
                try:
                    sub = command.get_command(ctx, name)
                except Exception as exc:  # a module that does not import is a failure to name
                    sub, error = None, repr(exc)
                else:
                    error = "no such command"
                if sub is None:
                    results.append({"path": [*path, name], "missing": error})
                    continue
                visit(sub, [*path, name])

    visit(cli, [])
    print(json.dumps(results))
    """
)


def _fresh_python(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def help_walk() -> list[dict]:
    """Every command path with its --help outcome and the heavy modules loaded after it."""
    proc = _fresh_python(WALK)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_walk_covers_every_top_level_command(help_walk: list[dict]) -> None:
    from factdb.cli import COMMANDS

    seen = {tuple(r["path"]) for r in help_walk}
    missing = [name for name in COMMANDS if (name,) not in seen]
    assert not missing
    # the groups really have subcommands that were walked (claim add, db upgrade, …)
    assert any(len(r["path"]) == 2 for r in help_walk)


def test_every_help_works(help_walk: list[dict]) -> None:
    broken = [
        r
        for r in help_walk
        if r.get("missing") or r["exit_code"] != 0 or not r["usage"] or r["exception"]
    ]
    assert not broken, broken


def test_no_help_imports_sqlalchemy_or_alembic(help_walk: list[dict]) -> None:
    offenders = [(" ".join(r["path"]) or "factdb", r["heavy"]) for r in help_walk if r.get("heavy")]
    # the first entry is the command whose help (or module import) pulled them in
    assert not offenders, offenders[:1]


@pytest.mark.parametrize("args", [["--help"], ["claim", "--help"], ["--version"]])
def test_console_script_help_is_light(args: list[str]) -> None:
    """The real entry point, as a user runs it, under ``-X importtime``."""
    code = "import sys; from factdb.cli import main; sys.argv = ['factdb', *sys.argv[1:]]; main()"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {
        line.split("|")[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert not heavy, heavy[:5]
    assert imported, "importtime output was expected"


ORDINARY = textwrap.dedent(
    """
    import json, sys
    from factdb.cli import cli
    try:
        cli.main(args=sys.argv[1:], prog_name="factdb", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    print(json.dumps({
        "code": code,
        "alembic": sorted(m for m in sys.modules if m.split(".")[0] == "alembic")[:3],
    }), file=sys.stderr)
    """
)


@pytest.mark.parametrize(
    "args",
    [
        ["claim", "list", "--limit", "5"],
        ["speaker", "list"],
        ["source", "list"],
        ["sql", "SELECT count(*) FROM statements"],
        ["export", "--format", "csv"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_ordinary_commands_do_not_import_alembic(sqlite_path: Path, args: list[str]) -> None:
    proc = _fresh_python(ORDINARY, "--db", str(sqlite_path), *args)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), proc.stderr
    assert proc.stdout.strip(), "the command should really have printed its result"
    assert report["alembic"] == []


def test_schema_check_is_one_query(sqlite_path: Path) -> None:
    """Opening the database for an ordinary command costs one query for the schema gate."""
    from sqlalchemy import event

    from factdb.db import check_schema, make_engine

    engine = make_engine(f"sqlite:///{sqlite_path}", write=False)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    check_schema(engine)
    engine.dispose()
    queries = [s for s in statements if s.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert len(queries) == 1, statements
    assert "alembic_version" in queries[0]


def test_schema_version_constant_equals_alembic_head() -> None:
    from factdb import migrate

    assert migrate.head_revision() == HEAD_REVISION
    assert {revision for revision, _, _ in migrate.history()} == set(KNOWN_REVISIONS)
