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
QUOTE_KINDS = ("direct_quote", "paraphrase", "summary", "translation")
ATTRIBUTION_ROLES = (
    "said_by",
    "first_reported",
    "reported_by",
    "quoted_by",
    "according_to",
    "published_by",
    "photo_credit",
    "primary_document",
)
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
PRECISIONS = ("year", "month", "day")
