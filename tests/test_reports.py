"""Reports: the model, Markdown and HTML rendering, determinism, filters, escaping, the CLI,
and one real headless-browser rendering (Debian's chromium) of the HTML report."""

from __future__ import annotations

import datetime as dt
import html.parser
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from factdb.db import make_engine, session_scope
from factdb.filters import ClaimFilter
from factdb.reports import render
from factdb.reports.chart import status_colour
from factdb.reports.markdown import md, md_block
from factdb.reports.model import build_report
from factdb.services.claims import AttributionInput, add_claim
from factdb.services.links import link_claims
from factdb.services.speakers import create_speaker
from factdb.services.statuses import add_status_event
from factdb.services.verdicts import add_verdict

HOSTILE_TEXT = (
    "<script>alert('x')</script> | *bold* _under_ `tick` [link](http://evil) &amp;\n"
    "# not a heading\n- not a list\n1. not a list either"
)
RTL_TEXT = "הנאט״ו מגרש שמונה דיפלומטים"
AP = AttributionInput(
    "Associated Press",
    url="https://apnews.com/article/russia-nato-expulsions",
    kind="news_agency",
    role="reported_by",
    verb="according to",
    title="Russia cuts ties with NATO",
    published_on="2021-10-18",
)


def build_story(session: Session) -> dict[str, int]:
    """A small story with statuses, links, verdicts, a hostile claim and an RTL claim."""
    create_speaker(session, "Russian Foreign Ministry", kind="organisation")
    create_speaker(
        session,
        "Sergey Lavrov",
        role="Foreign Minister",
        acts_for="Russian Foreign Ministry",
        aliases=["Сергей Лавров"],
    )
    accusation = add_claim(
        session,
        text="The eight Russian officials were secretly working as intelligence officers.",
        speaker="NATO",
        speaker_kind="organisation",
        quote_kind="paraphrase",
        said_on="2021-10-06",
        status="alleged",
        tags=["nato", "expulsions"],
        sources=[AP],
    )
    denial = add_claim(
        session,
        text="The allegations are baseless.",
        speaker="Russian government",
        speaker_kind="organisation",
        quote_kind="paraphrase",
        said_on="2021-10",
        status="denied",
        sources=[AP],
    )
    lavrov = add_claim(
        session,
        text='NATO "isn\'t interested in any kind of equal dialogue or joint work."',
        speaker="Сергей Лавров",
        said_on="2021-10-18",
        language="en",
        status="alleged",
        sources=[
            AP,
            AttributionInput(
                "Russian Foreign Ministry Press Service",
                kind="press_service",
                role="photo_credit",
                credit="Russian Foreign Ministry Press Service via AP",
            ),
        ],
    )
    add_status_event(
        session,
        accusation.id,
        "denied",
        "2021-10-18",
        note="Moscow calls the accusation baseless",
        evidence_claim_id=denial.id,
        recorded_by="desk",
    )
    link_claims(session, denial.id, "denies", accusation.id, linked_on="2021-10")
    link_claims(session, lavrov.id, "responds_to", accusation.id, linked_on="2021-10-18")
    add_verdict(
        session,
        lavrov.id,
        "Half True",
        reviewer="PolitiFact",
        reviewed_on="2021-10-20",
        url="https://www.politifact.com/factchecks/2021/oct/20/x/",
    )
    hostile = add_claim(
        session,
        text=HOSTILE_TEXT,
        speaker="Mallory <b>|</b>",
        said_on="2021",
        status="unverified",
        context="line one\nline two | piped",
        tags=["hostile"],
        sources=[AttributionInput("Evil & Co", url="javascript:alert(1)")],
    )
    rtl = add_claim(
        session,
        text=RTL_TEXT,
        speaker="עיתונאי",
        language="he",
        quote_kind="translation",
        original_text="الناتو يطرد ثمانية دبلوماسيين",
        original_language="ar",
        status="disputed",
        status_on="2021-11",
    )
    add_verdict(session, rtl.id, "Ni vrai ni faux, une phrase entière", reviewer="Vérificateur")
    session.flush()
    return {
        "accusation": accusation.id,
        "denial": denial.id,
        "lavrov": lavrov.id,
        "hostile": hostile.id,
        "rtl": rtl.id,
    }


@pytest.fixture
def story(session: Session) -> dict[str, int]:
    ids = build_story(session)
    session.commit()
    return ids


def render_both(session: Session, claim_filter: ClaimFilter | None = None) -> tuple[str, str]:
    report = build_report(session, claim_filter)
    return render(report, "markdown"), render(report, "html")


# --- the model ------------------------------------------------------------------------------


def test_model_totals_breakdown_scorecard(session: Session, story: dict[str, int]) -> None:
    report = build_report(session)
    assert dict(report.totals) == {
        "Claims": 5,
        "Speakers": 5,
        "Sources": 3,
        "Status events": 6,
        "Links": 2,
        "Verdicts": 2,
    }
    assert [(s.code, s.count) for s in report.statuses] == [
        ("denied", 2),
        ("alleged", 1),
        ("disputed", 1),
        ("unverified", 1),
    ]
    lavrov = next(r for r in report.speakers if r.name == "Sergey Lavrov")
    assert (lavrov.claims, lavrov.role, lavrov.acts_for) == (
        1,
        "Foreign Minister",
        "Russian Foreign Ministry",
    )
    assert [(s.code, s.count) for s in lavrov.statuses] == [("alleged", 1)]
    assert lavrov.verdict_classes == (("mixture", 1),) and lavrov.unrated == 0
    rtl_speaker = next(r for r in report.speakers if r.name == "עיתונאי")
    assert rtl_speaker.verdict_classes == (("other", 1),)


def test_model_claims_chain_history_links(session: Session, story: dict[str, int]) -> None:
    report = build_report(session)
    claims = {c.id: c for c in report.claims}
    accusation = claims[story["accusation"]]
    assert [(h.when.text, h.status) for h in accusation.history] == [
        ("2021-10-06", "alleged"),
        ("2021-10-18", "denied"),
    ]
    assert accusation.history[1].evidence_claim_id == story["denial"]
    assert [(ln.relation, ln.source.id) for ln in accusation.links_in] == [
        ("denies", story["denial"]),
        ("responds_to", story["lavrov"]),
    ]
    lavrov = claims[story["lavrov"]]
    assert [(c.position, c.role, c.source.name) for c in lavrov.chain] == [
        (1, "reported_by", "Associated Press"),
        (2, "photo_credit", "Russian Foreign Ministry Press Service"),
    ]
    assert lavrov.chain[0].verb == "according to"
    assert lavrov.speaker == "Sergey Lavrov"  # entered through the Cyrillic alias
    # story order: by date said (a partial date by its first day), undated last
    assert [c.id for c in report.claims] == [
        story["hostile"],
        story["denial"],
        story["accusation"],
        story["lavrov"],
        story["rtl"],
    ]


def test_timeline_is_in_date_order_at_each_precision(
    session: Session, story: dict[str, int]
) -> None:
    report = build_report(session)
    firsts = [e.sort_when.start for e in report.timeline if e.sort_when.start is not None]
    assert firsts == sorted(firsts)
    texts = [(e.when.text, e.kind) for e in report.timeline]
    # partial dates rendered at their precision, never padded with an invented day
    assert ("2021", "statement") in texts and ("2021-10", "statement") in texts
    assert ("2021-10", "link") in texts and ("2021-11", "status") in texts
    # a month sorts before the days of that month
    assert texts.index(("2021-10", "statement")) < texts.index(("2021-10-06", "statement"))
    assert texts.index(("2021-10-18", "statement")) < texts.index(("2021-10-18", "status"))
    assert texts.index(("2021-10-18", "status")) < texts.index(("2021-10-20", "verdict"))
    assert texts.index(("2021-10-20", "verdict")) < texts.index(("2021-11", "status"))
    # the undated RTL statement and its undated verdict come last
    assert texts[-2:] == [(None, "statement"), (None, "verdict")]


def test_timeline_keeps_history_order_within_a_day(session: Session) -> None:
    claim = add_claim(session, text="An accusation.", speaker="Someone", said_on="2022-03-01")
    add_status_event(session, claim.id, "denied", "2022-03-02")
    add_status_event(session, claim.id, "confirmed", "2022-03-02")  # later the same day
    add_status_event(session, claim.id, "alleged", "2022-03")  # the month, a first-day date
    report = build_report(session)
    (entry,) = report.claims
    assert entry.status == "confirmed"
    assert [h.status for h in entry.history] == ["alleged", "denied", "confirmed"]
    statuses = [e.headline.rsplit(": ", 1)[1] for e in report.timeline if e.kind == "status"]
    assert statuses == ["Alleged", "Denied", "Confirmed"]
    markdown = render(report, "markdown")
    assert "| 2022-03-02 | Denied |   |   |   |\n| 2022-03-02 | Confirmed |" in markdown


# --- filters ----------------------------------------------------------------------------


def test_filters_are_honoured(session: Session, story: dict[str, int]) -> None:
    report = build_report(session, ClaimFilter(speaker="Sergey Lavrov"))
    assert [c.id for c in report.claims] == [story["lavrov"]]
    assert dict(report.totals)["Claims"] == 1
    assert report.filters == [("Speaker", "Sergey Lavrov")]
    # a link to a claim outside the report is shown, marked as outside
    (link,) = report.claims[0].links_out
    assert link.target.id == story["accusation"] and not link.target.in_report

    report = build_report(session, ClaimFilter(status="denied"))
    assert sorted(c.id for c in report.claims) == sorted([story["accusation"], story["denial"]])
    report = build_report(session, ClaimFilter(tag="hostile"))
    assert [c.id for c in report.claims] == [story["hostile"]]
    report = build_report(session, ClaimFilter(since=dt.date(2021, 10, 6)))
    assert {c.id for c in report.claims} == {story["accusation"], story["lavrov"]}
    report = build_report(session, ClaimFilter(limit=2))
    assert len(report.claims) == 2

    markdown, page = render_both(session, ClaimFilter(speaker="NATO", tag="nato"))
    assert "Filters: Speaker: NATO; Tag: nato." in markdown
    assert "Mallory" not in markdown and "Mallory" not in page
    assert "The eight Russian officials" in page


def test_as_of_is_a_snapshot(session: Session, story: dict[str, int]) -> None:
    report = build_report(session, ClaimFilter(as_of=dt.date(2021, 10, 10)))
    claims = {c.id: c for c in report.claims}
    accusation = claims[story["accusation"]]
    assert accusation.status == "alleged"
    assert [h.status for h in accusation.history] == ["alleged"]
    assert [ln.relation for ln in accusation.links_in] == ["denies"]  # the 2021-10-18 one is later
    assert claims[story["lavrov"]].status is None and not claims[story["lavrov"]].verdicts
    markdown = render(report, "markdown")
    assert "Statuses as they stood on 2021-10-10" in markdown
    assert "Status as of 2021-10-10:** Alleged" in markdown


def test_empty_database_renders(session: Session) -> None:
    markdown, page = render_both(session)
    assert "No claims match." in markdown and "No claims match." in page
    ET.fromstring(page.split("\n", 1)[1])


# --- determinism ----------------------------------------------------------------------------


def test_same_database_same_bytes(session: Session, story: dict[str, int]) -> None:
    first = render_both(session)
    session.expire_all()
    assert render_both(session) == first


def _fresh_render(url: str) -> tuple[str, str]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            build_story(s)
        with session_scope(engine) as s:
            return render_both(s)
    finally:
        engine.dispose()


def test_identically_built_databases_give_identical_bytes(
    db_url: str, tmp_path: Path, sqlite_template: Path
) -> None:
    """The test's database (SQLite or PostgreSQL) against a second, fresh SQLite one."""
    other = tmp_path / "other.db"
    shutil.copyfile(sqlite_template, other)
    assert _fresh_render(db_url) == _fresh_render(f"sqlite:///{other}")


# --- Markdown ---------------------------------------------------------------------------


def test_markdown_sections_and_chart(session: Session, story: dict[str, int]) -> None:
    markdown = render(build_report(session), "markdown")
    for heading in (
        "# Fact-check report",
        "## Totals",
        "## Status breakdown",
        "## Speaker scorecard",
        "## Timeline",
        "## Claims",
    ):
        assert f"\n{heading}\n" in f"\n{markdown}"
    assert "| Denied | 2 | 40% | " + "█" * 20 + " |" in markdown
    assert "| Alleged | 1 | 20% | " + "█" * 10 + " |" in markdown
    assert "1. reported by: **Associated Press** (news agency, “according to”" in markdown
    assert "<https://apnews.com/article/russia-nato-expulsions>" in markdown
    assert "| 2021-10-18 | Denied | Moscow calls the accusation baseless | claim #" in markdown
    assert markdown.endswith("\n") and "\r" not in markdown


def _cells(row: str) -> list[str]:
    """Split a Markdown table row on unescaped pipes."""
    return re.split(r"(?<!\\)\|", row.strip())[1:-1]


def test_markdown_escapes_hostile_text(session: Session, story: dict[str, int]) -> None:
    markdown = render(build_report(session), "markdown")
    # every table row has as many cells as its header
    table: list[str] = []
    for line in [*markdown.split("\n"), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {len(_cells(row)) for row in table}
            assert len(widths) == 1, table
            table = []
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert "\\*bold\\*" in markdown and "\\_under\\_" in markdown and "\\`tick\\`" in markdown
    assert "\\[link\\](http://evil)" in markdown and "\\&amp;" in markdown
    assert "Mallory \\<b\\>\\|\\</b\\>" in markdown
    assert "line one<br>line two \\| piped" in markdown
    # quoted lines that would become a heading or a list are escaped
    assert "> \\# not a heading\\" in markdown
    assert "> \\- not a list\\" in markdown and "> 1\\. not a list either" in markdown
    # a non-http URL is never an autolink
    assert "<javascript:" not in markdown


def test_markdown_renders_as_text_in_github_markdown(
    session: Session, story: dict[str, int]
) -> None:
    """GitHub's own renderer (cmark-gfm), raw HTML allowed: hostile text stays text."""
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm is in the [test] extras")
    from cmarkgfm.cmark import Options

    markdown = render(build_report(session), "markdown")
    rendered = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parsed = _parse(rendered.replace("<br>", "<br/>"))
    tags = [t for t, _ in parsed.tags]
    assert "script" not in tags and "b" not in tags and "em" not in tags and "code" not in tags
    text = "".join(parsed.text)
    assert "<script>alert('x')</script> | *bold* _under_ `tick` [link](http://evil) &amp;" in text
    assert "Mallory <b>|</b>" in text
    # the quoted lines stay lines of the quote, not a heading or lists inside it
    quote = rendered[rendered.index("<blockquote>") : rendered.index("</blockquote>")]
    assert "<h1>" not in quote and "<ul>" not in quote and "<ol>" not in quote
    assert "# not a heading" in quote and "1. not a list either" in quote
    # every table keeps its column count (an escaped | never splits a cell)
    for table in re.findall(r"<table>.*?</table>", rendered, flags=re.S):
        widths = {
            len(re.findall(r"<t[hd][ >]", row))
            for row in re.findall(r"<tr>.*?</tr>", table, flags=re.S)
        }
        assert len(widths) == 1, table
    assert 'href="javascript' not in rendered
    assert '<a href="https://apnews.com/article/russia-nato-expulsions">' in rendered


def test_markdown_helpers() -> None:
    assert md("a|b\r\nc\x00d") == "a\\|b<br>cd"
    assert md_block("# x\n\n+ y") == ["\\# x", "", "\\+ y"]


# --- HTML -------------------------------------------------------------------------------


class _Collector(html.parser.HTMLParser):
    """Checks nesting and collects tags and attributes."""

    VOID = {"meta", "br", "link", "img", "hr", "input"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    collector.close()
    assert not collector.errors and not collector.stack
    return collector


def test_html_is_well_formed_and_self_contained(session: Session, story: dict[str, int]) -> None:
    page = render(build_report(session), "html")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    parsed = _parse(page)
    # also well-formed XML, so the SVG can be checked with xml.etree
    root = ET.fromstring(page.split("\n", 1)[1])
    svg = root.find(".//{http://www.w3.org/2000/svg}svg")
    if svg is None:  # the svg element inherits no namespace prefix in plain XML parsing
        svg = next(e for e in root.iter() if e.tag.endswith("svg"))
    bars = [e for e in svg.iter() if e.tag.endswith("rect") and e.get("class") == "bar"]
    assert [(b.get("data-status"), b.get("data-count")) for b in bars] == [
        ("denied", "2"),
        ("alleged", "1"),
        ("disputed", "1"),
        ("unverified", "1"),
    ]
    widths = [int(b.get("width")) for b in bars]
    assert widths[0] == 2 * widths[1] > 0
    # self-contained: no script, no external stylesheet, image, font or frame
    tags = [t for t, _ in parsed.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        href = attrs.get("href") or ""
        if tag != "a":
            assert not href, tag
        elif href.startswith("http"):
            # links to the sources themselves are content, not assets
            assert attrs.get("rel") == "noopener noreferrer"
        else:
            assert href.startswith("#claim-") or href in {
                "#totals",
                "#statuses",
                "#speakers",
                "#timeline",
                "#claims",
            }, href
    style = page[page.index("<style>") : page.index("</style>")]
    assert "url(" not in style and "@import" not in style
    # every in-page link has a target
    ids = {attrs.get("id") for _, attrs in parsed.tags}
    for _, attrs in parsed.tags:
        if (attrs.get("href") or "").startswith("#"):
            assert attrs["href"][1:] in ids


def test_html_escapes_hostile_text_and_keeps_rtl(session: Session, story: dict[str, int]) -> None:
    page = render(build_report(session), "html")
    parsed = _parse(page)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "Mallory &lt;b&gt;|&lt;/b&gt;" in page
    assert "javascript:" not in " ".join(str(a.get("href")) for _, a in parsed.tags)
    assert "javascript:alert(1)" in "".join(parsed.text)  # shown, not linked
    assert "&amp;amp;" in page  # the text "&amp;" survives as text
    # the claim's line breaks are kept
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; | *bold*" in page
    assert "<br/># not a heading<br/>" in page
    # right-to-left text survives, in an element laying out in its own direction
    blockquotes = [a for t, a in parsed.tags if t == "blockquote"]
    assert all(a.get("dir") == "auto" for a in blockquotes)
    assert f'<blockquote dir="auto" lang="he">{RTL_TEXT}</blockquote>' in page
    assert '<strong dir="auto">עיתונאי</strong>' in page
    assert '<dd dir="auto" lang="ar">الناتو يطرد ثمانية دبلوماسيين</dd>' in page


# --- CLI --------------------------------------------------------------------------------


def test_cli_report_stdout_file_and_title(run, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        build_story(s)
    engine.dispose()

    result = run("report")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Fact-check report\n")
    again = run("report")
    assert again.stdout == result.stdout

    out = tmp_path / "report.html"
    result = run("report", "--title", "NATO & Russia <2021>", "--status", "denied", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "wrote html report" in result.stderr
    page = out.read_text(encoding="utf-8")
    assert "<title>NATO &amp; Russia &lt;2021&gt;</title>" in page
    assert "Filters: Status: denied." in page and "Mallory" not in page
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    result = run("report", "--format", "html", "--speaker", "NATO")
    assert result.stdout.startswith("<!DOCTYPE html>")
    result = run("report", "--format", "markdown", "-o", str(tmp_path / "r.html"))
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("# Fact-check report")


def test_cli_report_errors_write_nothing(run_sqlite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "keep.md"
    out.write_text("old report\n")
    result = run_sqlite("report", "--speaker", "Nobody At All", "-o", str(out))
    assert result.exit_code == 1 and result.stderr.startswith("Error: ")
    assert out.read_text() == "old report\n"
    result = run_sqlite("report", "-o", str(tmp_path / "missing" / "r.md"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    result = run_sqlite("report", "--format", "pdf")
    assert result.exit_code == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# --- a real browser ---------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG (what chromium writes) into rows of RGB(A) bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, channels, rows


def _longest_run(row: bytes, channels: int, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    best = run = 0
    for x in range(0, len(row), channels):
        if all(abs(row[x + k] - rgb[k]) <= tolerance for k in range(3)):
            run += 1
            best = max(best, run)
        else:
            run = 0
    return best


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            CHROMIUM or "chromium",
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)",
)
def test_html_report_renders_in_headless_chromium(sqlite_path: Path, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{sqlite_path}")
    with session_scope(engine) as s:
        build_story(s)
    with session_scope(engine) as s:
        page = render(build_report(s, title="Browser check"), "html")
    engine.dispose()
    report = tmp_path / "report.html"
    report.write_text(page, encoding="utf-8")
    url = report.as_uri()

    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    parsed = _Collector()
    parsed.feed(dom.stdout.decode("utf-8"))
    bars = [a for t, a in parsed.tags if t == "rect" and a.get("class") == "bar"]
    assert [b.get("data-status") for b in bars] == ["denied", "alleged", "disputed", "unverified"]
    assert all(int(b["width"] or 0) > 0 for b in bars)
    assert "Browser check" in "".join(parsed.text)

    shot = tmp_path / "shot.png"
    result = _chromium(
        f"--screenshot={shot}", "--window-size=900,900", url, profile=tmp_path / "profile-shot"
    )
    assert result.returncode == 0 and shot.exists(), result.stderr.decode(errors="replace")[-2000:]
    width, channels, rows = _png_pixels(shot.read_bytes())
    assert width == 900 and len(rows) == 900

    def rgb(code: str) -> tuple[int, int, int]:
        colour = status_colour(code)
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]

    # the chart is visible: the denied bar is a long run of its colour (380 CSS px wide),
    # the alleged bar about half as long, on rows of the first screen
    denied = max(_longest_run(row, channels, rgb("denied")) for row in rows)
    alleged = max(_longest_run(row, channels, rgb("alleged")) for row in rows)
    assert 300 <= denied <= 400, denied
    assert 0.4 * denied <= alleged <= 0.6 * denied, (denied, alleged)
    # and the page is not blank elsewhere: dark text pixels exist
    assert any(_longest_run(row, channels, (0x1F, 0x29, 0x37), tolerance=40) for row in rows[:80])
