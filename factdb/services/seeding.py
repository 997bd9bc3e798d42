"""Seed files: the story files shipped in ``seeds/`` (``factdb init --seed``, ``factdb seed``).

A seed file is a story file (docs/story-files.md); loading one is ``factdb story load``, done
by :mod:`factdb.stories`. This module only knows where the shipped ones are.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

import factdb
from factdb.errors import FactdbError
from factdb.stories.load import load_stories
from factdb.stories.read import SUFFIXES, StoryError, read_story

SEED_SUFFIXES = SUFFIXES
SeedError = StoryError
read_seed_file = read_story


def seed_dir() -> Path:
    """Where the shipped seed files are: package data when installed, else the checkout's seeds/."""
    package = Path(factdb.__file__).resolve().parent
    installed = package / "_seeds"
    if installed.is_dir():
        return installed
    return package.parent / "seeds"


def default_seed_files() -> list[Path]:
    """The seed files shipped with factdb (``seeds/*.toml`` and ``*.json``), in name order."""
    folder = seed_dir()
    if not folder.is_dir():
        raise FactdbError(f"no seed folder found at {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SEED_SUFFIXES)
    if not files:
        raise FactdbError(f"no seed files (*.toml, *.json) in {folder}")
    return files


def load_seed_files(session: Session, paths: list[Path] | tuple[Path, ...]) -> str:
    """Load seed files (all checked first) in the caller's transaction; a one-line summary."""
    return load_stories(session, paths).summary("seeded")
