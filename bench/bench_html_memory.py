"""Peak memory of importing a big HTML page: it is streamed like every other format.

Generates two pages of the same make-up (paragraphs of prose, an inline script, and a
ClaimReview ld+json block every 64 KiB, the way a web archive of a fact-checker's listing
looks): a small one (--small MiB) and a big one (--size MiB). Each is imported by
``factdb import`` in its own process; the peak RSS of that one process comes from
os.wait4's rusage. Printed: both peaks, the page sizes, and the ratio big/small. Memory held
in proportion to the page would make the big page's peak grow with --size (it was 690 MB
for a 108 MB page before the reader was made incremental); streamed, the two peaks are close.

Usage: python bench/bench_html_memory.py [--size 108] [--small 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

FACTDB = [sys.executable, "-m", "factdb"]
PROSE = "<p>Fact-checkers read the claim, the context &amp; the sources, then rate it.</p>\n"
BLOCK_EVERY = 64 * 1024


def _review(number: int) -> str:
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": f"Claim number {number} made on a page",
        "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "Speaker"}},
        "reviewRating": {"@type": "Rating", "alternateName": "False"},
        "url": f"https://factcheck.example/{number}",
    }
    return f'<script type="application/ld+json">{json.dumps(review)}</script>\n'


def write_page(path: Path, mib: float) -> int:
    """A page of about ``mib`` MiB; returns the number of ClaimReview blocks in it."""
    target = int(mib * 1024 * 1024)
    filler = PROSE * (BLOCK_EVERY // len(PROSE))
    script = "<script>var x = '" + "js" * 2000 + "';</script>\n"
    written = blocks = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("<!doctype html><html><head><title>Archive</title></head><body>\n")
        while written < target:
            part = filler + script + _review(blocks)
            out.write(part)
            written += len(part)
            blocks += 1
        out.write("</body></html>\n")
    return blocks


def peak_mib(argv: list[str]) -> float:
    """Peak RSS (MiB) of one child process; a failure stops the benchmark."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{stderr}")
    return usage.ru_maxrss / 1024


def import_peak(page: Path, work: Path) -> float:
    """Peak RSS of importing ``page`` into a new database."""
    db = work / f"{page.stem}.db"
    subprocess.run([*FACTDB, "--db", str(db), "init"], check=True, capture_output=True)
    return peak_mib([*FACTDB, "--db", str(db), "import", "--quiet", str(page)])


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=108, help="big page, MiB")
    parser.add_argument("--small", type=float, default=1, help="small page, MiB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="factdb-html-") as tmp:
        work = Path(tmp)
        rows = []
        for label, mib in (("small", args.small), ("big", args.size)):
            page = work / f"{label}.html"
            blocks = write_page(page, mib)
            peak = import_peak(page, work)
            size = page.stat().st_size / 1024 / 1024
            rows.append((label, size, blocks, peak))
            print(f"{label:5}  page {size:7.1f} MiB  {blocks:6} reviews  peak RSS {peak:6.1f} MiB")
        ratio = rows[1][3] / rows[0][3]
        print(f"peak RSS big/small: {ratio:.2f}x for a page {rows[1][1] / rows[0][1]:.0f}x larger")


if __name__ == "__main__":
    main()
