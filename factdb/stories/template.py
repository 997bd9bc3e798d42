"""The commented template ``factdb story new`` writes: every key explained, with examples from
the founding article (Russia cuts ties with NATO, October 2021). It is itself a valid story
file: loading it unchanged records two claims of that article (a test proves it).
"""

from __future__ import annotations

TEMPLATE = """\
# A factdb story file: one story (an article, a broadcast, a thread) as structured data.
# Edit it, then check and load it:   factdb story load FILE --dry-run   /   factdb story load FILE
# Loading again changes nothing; loading an edited file applies the edits and says what changed.
# Lines starting with # are comments. Strings go in "double quotes"; lists in [ ... ].
# Dates are a year ("2014"), a year-month ("2021-10") or a day ("2021-10-18"): never invent
# the part the article does not give. The full format: docs/story-files.md.
#
# The examples below are from "Russia Cuts Ties With NATO, Closes Moscow Office After 8 Russians
# Expelled From Alliance" (AP, 2021-10-18). Replace them with your story.

[story]
# id (required): short, unique among your stories, no "/". Each claim is stored with the
# external id "<story id>/<claim id>", which is how a second load finds it again.
id = "nato-russia-2021"
# origin: the collection the claims belong to (default "story"); with id, the claims' identity.
origin = "desk"
title = "Russia Cuts Ties With NATO, Closes Moscow Office After 8 Russians Expelled From Alliance"
# language: the default language of every claim (a BCP 47 tag: "en", "ru", "pt-BR").
language = "en"
# tags: added to every claim of the story, besides the claim's own.
tags = ["nato", "russia"]
# chain: the attribution links every claim shares, appended to each claim's own (unless the
# claim already cites that source in that role, e.g. to give its own verb).
# Roles: said_by, first_reported, reported_by, quoted_by, according_to, published_by,
# photo_credit, primary_document.
chain = [
  { source = "Associated Press", role = "reported_by" },
]
# outlet: the outlet that published the article, appended to every chain as published_by.
# (The founding article does not name its outlet; leave this out when you do not know it.)
# outlet = "Example Daily"

# --- speakers ----------------------------------------------------------------------------
# Everyone who says something in the story. A name already in the database (or one of its
# aliases) is matched, not created twice; a new name too close to a known one is refused with
# "did you mean" (use the known name, or list the new spelling under aliases).
#   name (required)  kind: person | organisation   role: title or description
#   acts_for: the speaker this one speaks for      aliases: other names, any script
#   external_ids: e.g. { wikidata = "Q…" }          notes: free text

[[speakers]]
name = "Russian government"
kind = "organisation"
role = "Government of the Russian Federation"
aliases = ["Moscow", "Russia"]

[[speakers]]
name = "Sergey Lavrov"
kind = "person"
role = "Russian Foreign Minister"
acts_for = "Russian government"
aliases = ["Сергей Лавров", "Sergei Lavrov"]

[[speakers]]
name = "NATO"
kind = "organisation"
role = "Western military alliance, headquarters in Brussels"

# --- sources -----------------------------------------------------------------------------
# Where the claims appeared or were reported.
#   name (required)   kind: news_agency | outlet | press_service | government_document |
#                     social_media | photo_agency | broadcast | fact_checker | other
#   url (unique)      title     credit (author, photographer)     published_on (a date)
#   based_on: another source this one is based on (an outlet's story based on an AP report)
#   notes

[[sources]]
name = "Associated Press"
kind = "news_agency"

[[sources]]
name = "AFP via Getty Images"
kind = "photo_agency"
title = "A security guard patrols outside a building that houses the NATO information office in Moscow"
credit = "Dimitar Dilkoff/AFP via Getty Images"
published_on = "2021-10-18"

# --- claims ------------------------------------------------------------------------------
# One [[claims]] table per statement.
#   id (required): this claim's key in the story; keep it when you edit the claim (changing
#       it makes a new claim). Links and evidence name claims by it.
#   speaker (required): a declared speaker's name or alias, or one already in the database.
#   text (required): the words. quote_kind says which words they are:
#       direct_quote  the speaker's own words, verbatim
#       paraphrase    the speaker's point in the reporter's words
#       summary       a report of what was said or done, shortened
#       translation   a translation (give original_text and original_language too)
#   said_on: when it was said.  context: where, on what occasion.  tags: ["…"]
#   language: overrides the story's.  origin / external_id: override the stored identity
#       ("" = none: the claim is then recognised by speaker, text and date).
#   attributions: the chain "how we know", in order:
#       { source = "…", role = "reported_by", verb = "said", position = 1 }
#       (verb as written in the article; position only to keep gaps in a numbering)
#   status: the allegation's dated history, oldest first (never overwritten):
#       { status = "alleged", on = "2021-10", note = "…", evidence_source = "…",
#         evidence_claim = "<claim id>", recorded_by = "…", recorded_at = "2021-10-18T12:00:00" }
#       statuses: unverified, alleged, denied, disputed, confirmed, false, misleading,
#       retracted, or your own ('factdb status list'); recorded_by defaults to the origin.
#       A withdrawn event (claim status ID --withdraw EVENT) stays, marked withdrawn_at,
#       withdrawn_by and withdrawn_note (why), and no longer counts for the current status.
#   links: how this claim answers others: { relation = "denies", to = "<claim id>", on = "…" }
#       relations: denies, confirms, disputes, responds_to, retracts, repeats, supports
#   verdicts: a fact-checker's rating, kept apart from the status:
#       { label = "False", reviewer = "…", reviewed_on = "…", url = "…", scale = "Truth-O-Meter" }
#       rating_value, best_rating, worst_rating: the rating's place on its scale (integers;
#       filled in from the scale when the label is one of its ratings)

[[claims]]
id = "nato-accuses-intelligence-officers"
speaker = "NATO"
quote_kind = "paraphrase"
text = "The eight Russian diplomats were secretly working as intelligence officers."
said_on = "2021-10"
context = "NATO ousted eight Russian officials \\"earlier this month\\"; no day is given."
tags = ["expulsions", "intelligence"]
attributions = [
  { source = "Associated Press", role = "reported_by", verb = "accused" },
]
status = [
  { status = "alleged", on = "2021-10" },
  { status = "denied", on = "2021-10-18", evidence_claim = "moscow-denies-accusation", note = "Moscow has denied the allegations and claimed they were baseless." },
]

[[claims]]
id = "moscow-denies-accusation"
speaker = "Moscow"
quote_kind = "paraphrase"
text = "The allegations that the eight Russian diplomats were secretly working as intelligence officers are baseless."
said_on = "2021-10"
attributions = [
  { source = "Associated Press", role = "reported_by", verb = "claimed" },
]
links = [
  { relation = "denies", to = "nato-accuses-intelligence-officers", on = "2021-10" },
]
"""
