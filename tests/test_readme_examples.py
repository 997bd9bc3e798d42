"""Every console example in the README is real output: each is run here and compared.

The README's ```console blocks are read in order as one session on a fresh seeded database in a
temporary home directory, also the working directory (so ``factdb init --seed`` makes the
documented default database).
A line starting with ``$ `` is a command, run by bash with this environment's ``factdb`` first
on PATH; the lines after it, up to the next command, are what it prints (stdout and stderr).

Comparison rules, so that examples stay readable without hiding drift:
- ``…`` inside an expected line matches any text on that line; a line that is only ``…``
  matches any number of lines (also none);
- a comment after two or more spaces (``  # why``) is the README's annotation, not output;
- timestamps (``2026-11-26T23:43:24``, ``2026-12-02 20:46``) match any timestamp, today's
  date is shown as the day the examples were written (``2026-12-02``), and the temporary home
  directory as ``/home/me``;
- ``../shared`` (the shared folder beside the project, where the founding article is) is
  reachable from the working directory, as from the project's root.

Commands that cannot run here (a remote server, a downgrade) belong in ```sh blocks.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# the story the project was founded on (not in the repository: it is a news article)
FOUNDING_ARTICLE = ROOT.parent / "shared" / "seeds" / "000_d44905238723bdf6.txt"
ELLIPSIS = "…"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?")
WRITTEN_ON = "2026-12-02"  # "today" in the README's examples
ANNOTATION = re.compile(r"(?<=\S)\s{2,}#\s.*$")
SHOWN_HOME = "/home/me"


@dataclass(frozen=True)
class Example:
    """One command of a console block and the output the README shows for it."""

    line: int
    command: str
    expected: list[str]


def readme_examples(text: str) -> list[Example]:
    """The commands and expected outputs of every ```console block, in README order."""
    examples: list[Example] = []
    lines = text.splitlines()
    inside = False
    for number, line in enumerate(lines, start=1):
        if line.strip() == "```console":
            inside = True
            continue
        if inside and line.strip() == "```":
            inside = False
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            command = ANNOTATION.sub("", line[2:]).rstrip()
            examples.append(Example(number, command, []))
        elif examples:
            examples[-1].expected.append(line)
    return examples


def expected_pattern(expected: list[str]) -> re.Pattern[str]:
    """A regular expression for the whole output the README shows (see the module's rules)."""
    lines = [ANNOTATION.sub("", line).rstrip() for line in expected]
    while lines and not lines[-1]:
        lines.pop()
    parts = []
    for line in lines:
        if line == ELLIPSIS:
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        pieces = [re.escape(piece) for piece in TIMESTAMP.sub("\0", line).split(ELLIPSIS)]
        body = r"[^\n]*?".join(pieces).replace("\0", TIMESTAMP.pattern)
        parts.append(body + r"[ \t]*\n")
    return re.compile("".join(parts))


def normalise_output(output: str, home: Path) -> str:
    """Output as the README shows it: the home directory as /home/me, no trailing blank lines."""
    output = output.replace(str(home), SHOWN_HOME)
    output = output.replace(dt.date.today().isoformat(), WRITTEN_ON)
    lines = [line.rstrip() for line in output.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "".join(line + "\n" for line in lines)


def test_readme_has_console_examples() -> None:
    examples = readme_examples(README.read_text(encoding="utf-8"))
    assert len(examples) >= 20
    assert any(e.command.startswith("factdb init --seed") for e in examples)


def test_expected_pattern_rules() -> None:
    pattern = expected_pattern(["a … z", ELLIPSIS, "end  # note", "at 2026-11-26T23:43:24"])
    assert pattern.fullmatch("a b c z\nx\ny\nend\nat 2021-01-02T03:04:05\n")
    assert pattern.fullmatch("a - z\nend\nat 2021-01-02T03:04:05\n")
    assert not pattern.fullmatch("a z\nend\nmore\nat 2021-01-02T03:04:05\n")
    assert not pattern.fullmatch("b z\nend\nat 2021-01-02T03:04:05\n")


def run_examples(examples: list[Example], scratch: Path) -> list[tuple[Example, str, int]]:
    """Run every example in order in a fresh home under ``scratch``: (example, output, exit)."""
    home = scratch / "home"
    home.mkdir()
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (scratch / "shared").symlink_to(shared)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FACTDB_", "XDG_", "HYPOTHESIS", "COLUMNS"))
    }
    bin_dir = Path(sys.executable).parent
    env.update(
        HOME=str(home),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        USER="me",
        LOGNAME="me",
        LC_ALL="C.UTF-8",
        PYTHONIOENCODING="utf-8",
    )
    results = []
    for example in examples:
        result = subprocess.run(
            ["bash", "-c", example.command + " 2>&1"],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        results.append((example, normalise_output(result.stdout, home), result.returncode))
    return results


def drifted(results: list[tuple[Example, str, int]]) -> list[tuple[Example, str, int]]:
    """The examples whose output no longer matches what the README shows."""
    return [r for r in results if not expected_pattern(r[0].expected).fullmatch(r[1])]


def test_every_console_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    examples = readme_examples(README.read_text(encoding="utf-8"))
    if not FOUNDING_ARTICLE.is_file() and any("../shared" in e.command for e in examples):
        pytest.skip(
            "the README's examples read the founding article, ../shared/seeds/"
            f"{FOUNDING_ARTICLE.name}, which is not beside this checkout"
        )
    drift = [
        f"README.md:{example.line}: $ {example.command}\n"
        "--- the README shows:\n" + "\n".join(example.expected) + "\n"
        f"--- it prints (exit {code}):\n{actual}"
        for example, actual, code in drifted(run_examples(examples, tmp_path))
    ]
    if drift:
        pytest.fail(
            f"{len(drift)} README example(s) drifted (python tests/test_readme_examples.py "
            "--update rewrites them):\n\n" + "\n\n".join(drift)
        )


def update_readme() -> int:
    """Rewrite the drifted examples' outputs in README.md with what the commands print now."""
    import tempfile

    lines = README.read_text(encoding="utf-8").splitlines()
    examples = readme_examples("\n".join(lines))
    with tempfile.TemporaryDirectory() as scratch:
        stale = drifted(run_examples(examples, Path(scratch)))
    # bottom-up, so that earlier line numbers stay valid
    for example, actual, _ in sorted(stale, key=lambda r: -r[0].line):
        first = example.line  # 1-based line of the command = index of its first output line
        lines[first : first + len(example.expected)] = actual.splitlines()
        print(f"README.md:{example.line}: updated $ {example.command}", file=sys.stderr)
    README.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_readme_examples.py --update")
    sys.exit(update_readme())
