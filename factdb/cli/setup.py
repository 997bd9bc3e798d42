"""``factdb init`` and ``factdb seed``: create or upgrade the database, load seed data."""

from __future__ import annotations

from pathlib import Path

import click

from factdb.cli.common import AppContext, pass_app
from factdb.errors import FactdbError


def prepare_database(app: AppContext) -> str:
    """Create the database (and its folder) if needed and migrate it to head; say what was done."""
    from factdb.config import display_url
    from factdb.db import current_revision
    from factdb.migrate import head_revision, upgrade
    from factdb.schema_version import KNOWN_REVISIONS

    if app.path is not None and not app.path.exists():
        try:
            app.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FactdbError(f"cannot create {app.path.parent}: {exc.strerror}") from None
    engine = app.engine(write=True, check=False, must_exist=False)
    before = current_revision(engine)
    if before is not None and before not in KNOWN_REVISIONS:
        raise FactdbError(
            f"the database schema is at revision {before}, which this factdb does not know "
            "(it was made by a newer factdb); upgrade factdb instead"
        )
    head = head_revision()
    if before == head:
        return f"database {display_url(app.url)} is up to date (revision {head})"
    upgrade(engine)
    if before is None:
        return f"created database {display_url(app.url)} (revision {head})"
    return f"upgraded database {display_url(app.url)} from {before} to {head}"


def load_seeds(app: AppContext, files: list[Path], *, dry_run: bool = False) -> None:
    """Load seed (story) files in one transaction and report what they added and changed."""
    from factdb.cli.story import load_files

    load_files(app, files, dry_run=dry_run, verb="seeded")


@click.command()
@click.option("--seed", is_flag=True, help="Also load the seed story from seeds/.")
@pass_app
def init(app: AppContext, seed: bool) -> None:
    """Create the database, or upgrade it to this version's schema."""
    click.echo(prepare_database(app), err=True)
    if seed:
        from factdb.services.seeding import default_seed_files

        load_seeds(app, default_seed_files())


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report what would change; write nothing.")
@pass_app
def seed(app: AppContext, files: tuple[Path, ...], dry_run: bool) -> None:
    """Load story FILES (default: the story in seeds/); 'factdb story load' by its old name."""
    from factdb.services.seeding import default_seed_files

    load_seeds(app, list(files) or default_seed_files(), dry_run=dry_run)
