"""The fixed vocabularies of the schema, in a module light enough for the CLI's --help.

The models' CHECK constraints, the CLI's choices and the importers' validation all read these
tuples, so a kind or relation is defined once. (Statuses are a table: users add their own.)
"""

SPEAKER_KINDS = ("person", "organisation")
# the speaker of a claim nobody is known to have made (an anonymous viral post, a Fact Check
# API claim without claimant): one ordinary speaker row under this reserved name, created on
# first use, so that every join, filter and export works unchanged (see docs/robustness.md)
UNKNOWN_SPEAKER = "(unknown)"
SOURCE_KINDS = (
    "news_agency",
    "outlet",
    "press_service",
    "government_document",
    "social_media",
    "photo_agency",
    "broadcast",
    "fact_checker",
    "other",
)

# The attribution roles and quote kinds, each with what it means and an example from the
# founding article (seeds/): the one table that --help, the README glossary and the story
# template show, so that two careful users record the same article the same way.
ROLE_GLOSSARY: tuple[tuple[str, str, str], ...] = (
    (
        "said_by",
        "the speaker's own channel: the statement itself, a press release, a post",
        "the Russian Foreign Ministry's own statement on NATO's 'deliberate moves'",
    ),
    (
        "first_reported",
        "the first to report the claim, whom later reports follow",
        "the Associated Press, first to report Lavrov's announcement",
    ),
    (
        "reported_by",
        "a report that carries the claim in its own words (the default)",
        '"NATO also whittled down Russia\'s team ..., the AP reported"',
    ),
    (
        "quoted_by",
        "a report that quotes the speaker's words verbatim",
        'the AP quoting Lavrov: "we have practically no conditions for ... diplomatic work"',
    ),
    (
        "according_to",
        'the claim is given on this source\'s authority ("according to the AP")',
        "Lavrov sees no 'shift in the foreseeable future', \"according to the AP\"",
    ),
    (
        "published_by",
        "the outlet that published the article we read (often based on an agency report)",
        'the outlet that ran the AP story "Russia Cuts Ties With NATO"',
    ),
    (
        "photo_credit",
        "the agency credited for a photo that shows or dates the claim",
        '"Dimitar Dilkoff/AFP via Getty Images" (the NATO office in Moscow)',
    ),
    (
        "primary_document",
        "an official document that is the claim's primary evidence",
        "NATO's written notice suspending the eight officials' accreditation",
    ),
)
QUOTE_KIND_GLOSSARY: tuple[tuple[str, str, str], ...] = (
    (
        "direct_quote",
        "the speaker's exact words, as quoted",
        'Lavrov: "we suspend the work of our permanent mission to NATO"',
    ),
    (
        "paraphrase",
        "the speaker's point in the reporter's words",
        "Moscow denied the allegations and claimed they were baseless",
    ),
    (
        "summary",
        "a reporter's summary of several statements or of an action",
        "Russia said Monday it was cutting ties with NATO",
    ),
    (
        "translation",
        "a quote translated from another language (keep the original text too)",
        "Lavrov's words, said in Russian, as the AP translated them",
    ),
)
QUOTE_KINDS = tuple(code for code, _meaning, _example in QUOTE_KIND_GLOSSARY)
ATTRIBUTION_ROLES = tuple(code for code, _meaning, _example in ROLE_GLOSSARY)
LINK_RELATIONS = (
    "denies",
    "confirms",
    "disputes",
    "responds_to",
    "retracts",
    "repeats",
    "supports",
)
VERDICT_CLASSES = ("true", "false", "mixture", "other")
# the orders ``claim list --sort`` offers (services.query.select_claims applies them)
SORT_KEYS = ("said_on", "id", "status", "speaker")
PRECISIONS = ("year", "month", "day")


def glossary_help(table: tuple[tuple[str, str, str], ...]) -> str:
    """A glossary as --help text: one ``code: meaning (e.g. example)`` paragraph per entry.

    The ``\\b`` marker keeps click from re-wrapping the lines into one paragraph.
    """
    import textwrap

    lines = ["\b"]
    for code, meaning, example in table:
        lines += textwrap.wrap(
            f"{code}: {meaning}. E.g. {example}",
            width=90,
            initial_indent="  ",
            subsequent_indent="      ",
        )
    return "\n".join(lines)


def glossary_markdown(table: tuple[tuple[str, str, str], ...]) -> str:
    """A glossary as a Markdown table (code, meaning, example), for the README and docs."""
    rows = ["| code | meaning | example from the founding article |", "|---|---|---|"]
    rows += [f"| `{code}` | {meaning} | {example} |" for code, meaning, example in table]
    return "\n".join(rows)
