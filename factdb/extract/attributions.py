"""Finding attributions in a parsed article: rules over spaCy's dependency parse.

The spans follow the PARC/PolNeAR conventions (Pareti's attribution scheme, which PolNeAR's
guidelines adopt), so that the benchmark measures what a reader of those guidelines expects:

- the **cue** is the attributing verb alone ("said", not "has said"), or the phrase
  "according to";
- the **source** is the whole noun phrase of the one who says ("longtime Democratic pollster
  Pat Caddell", "he", "who");
- the **content** is the complement as written, with its complementiser ("that NATO ...") and
  with the quotation marks of a direct quote; a quote that runs on into the next sentences
  of the same paragraph is one content of several parts.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from factdb.extract.lexicon import (
    BELIEF_ADJECTIVES,
    CLAUSE_ONLY,
    LEMMA_FIXES,
    MEDIA_NOUNS,
    NOUN_CUES,
    OWNERLESS_NOUN_CUES,
    PRIVATE,
    SPEECH_VERBS,
    STANCE_NOUNS,
    VERB_PREPS,
)
from factdb.extract.model import Attribution, Span

_SUBJECTS = ("nsubj", "nsubjpass", "csubj")
_CONTENT_DEPS = ("ccomp", "xcomp")
_OPENING = "“\"‘'"
_QUOTE_CHARS = "“”\"‘’'"
_TRIM = set(",.;:—–-")
# "WALLACE: …", "Pat Caddell: …": a paragraph opening with a name and a colon
_SPEAKER_TAG = re.compile(
    r"^[\"“]?([A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}):[ \t]+(\S.*?)\s*$", re.M
)
_NOT_TAGS = {"update", "note", "photo", "video", "watch", "read", "source", "related", "editor"}
_NOT_SPEECH_HEADS = ("aux", "auxpass", "amod", "compound")
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
# '"…" ― Jorge Falcon': a quote signed with a dash
_SIGNED = re.compile(
    r'(“[^”\n]+”|"[^"\n]+")[ \t\xa0]*([―—])[ \t\xa0]*([A-Z][^\n“"|]{1,60}?)(?=[ \t]*(?:\n|“|"|$))'
)
_PERSONAL = {"i", "we", "you", "me", "us"}
# adverbs after a verb that are not its manner: "said also", "said that"
_NOT_MANNER = {"that", "so", "too", "as", "how", "why", "when", "where", "there", "here"}
_ADDRESSEE_ON = {"call", "prevail"}
# modifiers a comma sets off from the source's name: asides, not part of the source
_ASIDES = ("acl", "advcl")
_STANCE_PREPS = ("about", "over", "for", "with", "at", "in", "of", "to")
_LEADING = {"both", "even", "also", "but", "and"}
_NOMINAL = ("NOUN", "PROPN", "NUM", "PRON")
_RECIPROCAL = {"each other", "one another"}
_WH = {"when", "whether", "why", "how", "what", "where", "who", "which", "if"}
_CUE_LEFT = ("aux", "auxpass", "neg", "advmod")
# ("on" and "over" left out: "speaks on the side of the meeting" is where, not what)
_CONTENT_PREPS = ("about", "of", "for", "against")


@dataclass
class Quote:
    """A quoted stretch of text, marks included: ``[start, end)``."""

    start: int
    end: int


def find_quotes(text: str) -> list[Quote]:
    """Quoted stretches of ``text``, quotation marks included; quotes never cross paragraphs.

    Curly quotes pair by direction; straight double quotes pair in turn, and so do two
    apostrophes standing for one (the New York Times' archive style: ''Poor Mexico,'').
    Single quotes are left out: apostrophes make them ambiguous, and nested quotes lie inside
    double ones.
    """
    quotes: list[Quote] = []
    for match in re.finditer(r"[^\n]+", text):
        line_start = match.start()
        line = match.group()
        opened: int | None = None
        for mark in re.finditer(r"''|[“”\"]", line):
            char, i = mark.group(), mark.start()
            if char == "“" or (char in ('"', "''") and opened is None):
                opened = i
            elif char in ("”", '"', "''") and opened is not None:
                quotes.append(Quote(line_start + opened, line_start + mark.end()))
                opened = None
    return quotes


class Finder:
    """The attributions of one parsed document."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.text: str = doc.text
        self.quotes = find_quotes(self.text)
        self._quote_starts = [q.start for q in self.quotes]

    # --- spans ----------------------------------------------------------------------------

    def span(self, start: int, end: int) -> Span:
        """The span ``[start, end)`` with its text."""
        return Span(start, end, self.text[start:end])

    def token_span(self, tokens: Iterable[Any]) -> Span | None:
        """The span from the first to the last of ``tokens``, punctuation trimmed at the ends."""
        toks = sorted(tokens, key=lambda t: t.i)
        while toks:
            first, last = toks[0], toks[-1]
            if first.text in _TRIM or first.is_space:
                toks.pop(0)
            elif last.text in _TRIM or last.is_space:
                toks.pop()
            elif first.text == "(" and not any(t.text == ")" for t in toks):
                toks.pop(0)
            elif last.text == ")" and not any(t.text == "(" for t in toks):
                toks.pop()
            else:
                break
        if not toks:
            return None
        return self.span(toks[0].idx, toks[-1].idx + len(toks[-1].text))

    def quote_at(self, start: int, end: int) -> Quote | None:
        """The quote holding ``[start, end)``, if any."""
        i = bisect.bisect_right(self._quote_starts, start) - 1
        if i >= 0 and self.quotes[i].end >= end:
            return self.quotes[i]
        return None

    def quotes_in(self, start: int, end: int) -> list[Quote]:
        """The quotes lying wholly in ``[start, end)``."""
        lo = bisect.bisect_left(self._quote_starts, start)
        hi = bisect.bisect_left(self._quote_starts, end)
        return [q for q in self.quotes[lo:hi] if q.end <= end]

    def with_quote_marks(self, span: Span) -> Span:
        """``span`` widened to the quotation marks around it when it fills a quote.

        The parser leaves the marks (and a comma before the closing one) outside the clause;
        PolNeAR's contents include them.
        """
        quote = self.quote_at(span.start, span.end)
        if quote is None:
            # the clause may start just after an opening mark the parser left outside
            quote = self.quote_at(max(span.start - 1, 0), span.end)
        if quote is None:
            return span
        tail = self.text[span.end : quote.end].rstrip("”\"'")
        # a clause that ends its quote stands for the whole quote, even one that began a
        # sentence or more before (a quote of several sentences is one content)
        if set(tail.strip()) <= _TRIM:
            return self.span(quote.start, quote.end)
        # a clause that opens a quote of several sentences stands for the whole quote:
        # 'Trump said, "When people come back from war, …. But …."'
        if span.start <= quote.start + 1 and tail.lstrip()[:1] in (".", "?", "!"):
            return self.span(quote.start, quote.end)
        return span

    def paragraph_after_colon(self, verb: Any) -> Span | None:
        """ "He said:" closing its paragraph: the next paragraph is what was said."""
        sent = verb.sent
        last = sent[-1]
        while last.is_space and last.i > sent.start:
            last = self.doc[last.i - 1]
        if last.text != ":" or last.i <= verb.i or last.i - verb.i > 4:
            return None
        rest = self.text[last.idx + 1 :]
        gap = len(rest) - len(rest.lstrip())
        if "\n" not in rest[:gap]:
            return None
        start = last.idx + 1 + gap
        end = self.text.find("\n", start)
        end = len(self.text) if end < 0 else end
        return self.token_span_chars(start, end)

    def token_span_chars(self, start: int, end: int) -> Span | None:
        """``[start, end)`` with white space trimmed, or None when empty."""
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return self.span(start, end) if start < end else None

    def close_quote(self, span: Span) -> Span:
        """A content that opens a quote and stops short of its end runs on to the closing mark.

        'that NATO "isn't interested in … joint work."': the parser leaves the full stop and
        the closing mark outside the clause.
        """
        opened = sum(span.text.count(c) for c in "“") - sum(span.text.count(c) for c in "”")
        straight = span.text.count('"') % 2 or span.text.count("''") % 2
        if opened <= 0 and not straight:
            return span
        end = span.end
        while end < len(self.text) and self.text[end] in ".,;:!? ":
            end += 1
        if self.text[end : end + 2] == "''":
            return self.span(span.start, end + 2)
        if end < len(self.text) and self.text[end] in '”"':
            return self.span(span.start, end + 1)
        return span

    # --- the rules -------------------------------------------------------------------------

    def find(self) -> list[Attribution]:
        """Every attribution in the document, in text order."""
        found: list[Attribution] = []
        claimed: set[int] = set()  # cue token indexes already used
        for sent in self.doc.sents:
            for token in sent:
                if token.i in claimed:
                    continue
                attribution = None
                if token.lower_ == "according" and token.i + 1 < len(self.doc):
                    attribution = self.according_to(token, sent)
                    if attribution is not None:
                        claimed.add(token.i + 1)
                elif token.dep_ == "acomp" and token.lower_ in BELIEF_ADJECTIVES:
                    attribution = self.adjective(token)
                elif token.pos_ in ("VERB", "AUX") and lemma_of(token) in SPEECH_VERBS:
                    attribution = self.verb(token, sent)
                elif token.pos_ == "NOUN" and token.lemma_.lower() in NOUN_CUES:
                    attribution = self.noun(token)
                # "I think …", "he told me" inside someone's quote: the quoted speaker's
                # words, not an attribution the article makes
                if attribution is not None and self.quote_at(token.idx, token.idx + 1):
                    attribution = None
                if attribution is not None:
                    claimed.add(token.i)
                    attribution.sentence = self.span(sent.start_char, sent.end_char)
                    found.append(attribution)
        found = self.drop_nested_states(found)
        found += self.speaker_tags(found)
        found.sort(key=lambda a: a.cue[0].start)
        self.continue_quotes(found)
        for attribution in found:
            attribution.quote_kind = self.quote_kind(attribution.content)
        return found

    def drop_nested_states(self, found: list[Attribution]) -> list[Attribution]:
        """Without the states of mind and stances reported inside another's words.

        "Stein said she plans to join …", "Perdue said he didn't believe …", "Sullivan says
        he instructed staff to …": the plan, the belief and the instruction are part of what
        was said, not attributions the article makes itself. A verb of saying with a clause
        of its own ("Bamberg said the family told him that …") is kept.
        """
        contents = [(a, s) for a in found for s in a.content]
        kept = []
        for a in found:
            cue = a.cue[0]
            token = self.doc.char_span(cue.start, cue.end, alignment_mode="expand")
            verbs = [lemma_of(t) for t in token or () if t.pos_ in ("VERB", "AUX")]
            reports = any(v in CLAUSE_ONLY and v not in PRIVATE for v in verbs)
            nested = any(o is not a and s.start <= cue.start < s.end for o, s in contents)
            if reports or not nested:
                kept.append(a)
        return kept

    def speaker_tags(self, found: list[Attribution]) -> list[Attribution]:
        """Transcripts and headlines: "PENCE: Well, look…", "Pat Caddell: Voters Worried"."""
        cues = {c.start for a in found for c in a.cue}
        contents = [s for a in found for s in a.content]
        tags = []
        for m in _SPEAKER_TAG.finditer(self.text):
            label = m.group(1)
            colon = m.end(1)
            if label.lower() in _NOT_TAGS or colon in cues:
                continue
            if any(s.start <= m.start() < s.end for s in contents):
                continue
            end = m.end(2)
            if self.text[end - 1] == "." and self.text[end - 2 : end - 1] not in _QUOTE_CHARS:
                end -= 1  # the final full stop is the article's, not the speaker's
            tag = Attribution(
                content=[self.span(m.start(2), end)],
                cue=[self.span(colon, colon + 1)],
                source=[self.span(m.start(1), colon)],
                verb=":",
            )
            doc_span = self.doc.char_span(m.start(), m.end(), alignment_mode="expand")
            sent = doc_span[0].sent if doc_span is not None and len(doc_span) else None
            tag.sentence = (
                self.span(m.start(), m.end())
                if sent is None
                else self.span(sent.start_char, sent.end_char)
            )
            tags.append(tag)
        for m in _SIGNED.finditer(self.text):
            if m.start(2) in cues:
                continue
            source = self.span(m.start(3), m.end(3))
            if source.text.rstrip(". ") != source.text:
                source = self.span(m.start(3), m.start(3) + len(source.text.rstrip(". ")))
            tag = Attribution(
                content=[self.span(m.start(1), m.end(1))],
                cue=[self.span(m.start(2), m.end(2))],
                source=[source],
                verb=m.group(2),
            )
            tag.sentence = self.span(m.start(), m.end())
            tags.append(tag)
        return tags

    def according_to(self, token: Any, sent: Any) -> Attribution | None:
        """ "…, according to the AP": the rest of the sentence is the content."""
        to = self.doc[token.i + 1]
        if to.lower_ != "to":
            return None
        objects = [c for c in to.children if c.dep_ in ("pobj", "pcomp")] or [
            c for c in token.children if c.dep_ == "pobj"
        ]
        if not objects:
            return None
        # the source ends at the comma after its name: "According to X, the move reeks …"
        # parsed with the rest of the sentence hung on X
        named = [t for t in objects[0].subtree if t.i > to.i]
        comma = next((t.i for t in named if t.text == "," and t.i > objects[0].i), None)
        named = [t for t in named if comma is None or t.i < comma]
        source = self.token_span(named)
        phrase = {token.i, to.i} | {t.i for t in named}
        if comma is None:
            phrase |= {t.i for t in token.subtree} | {t.i for t in to.subtree}
        content_tokens = [t for t in sent if t.i not in phrase]
        content = self.split_span(content_tokens)
        if source is None or not content:
            return None
        cue = self.span(token.idx, to.idx + len(to.text))
        return Attribution(content=content, cue=[cue], source=[source], verb="according to")

    def adjective(self, adjective: Any) -> Attribution | None:
        """ "She was sure Trump would win", "He is convinced that …": a state of mind told
        by "be" and an adjective; the cue is both."""
        be = adjective.head
        clauses = [c for c in adjective.children if c.dep_ in ("ccomp", "xcomp")]
        subjects = [c for c in be.children if c.dep_ == "nsubj"]
        if not clauses or not subjects or subjects[0].lower_ in _PERSONAL:
            return None
        content = self.token_span(list(clauses[0].subtree))
        source = self.source_span(subjects[0])
        if content is None or source is None or clauses[0].i < adjective.i:
            return None
        if be.i > adjective.i:
            return None
        cue = self.span(self._left_of(be).idx, adjective.idx + len(adjective.text))
        return Attribution(
            content=[self.close_quote(self.with_quote_marks(content))],
            cue=[cue],
            source=[source],
            verb=cue.text,
        )

    def noun(self, noun: Any) -> Attribution | None:
        """ "Trump's claim that …", "Clinton's criticism of …": a cue noun with an owner.

        Without an owner the attribution has no source, as PolNeAR marks it ("charges that he
        has perpetuated …", "claims of sexual abuse"); the pipeline proposes no claim from it.
        """
        owners = [c for c in noun.children if c.dep_ == "poss"]
        contents = [
            c
            for c in noun.children
            if c.dep_ in ("acl", "ccomp", "relcl")
            and any(m.lower_ == "that" and (owners or m.dep_ == "mark") for m in c.children)
        ]
        if not owners and not contents and noun.lemma_.lower() not in OWNERLESS_NOUN_CUES:
            return None
        if not contents:
            preps = [c for c in noun.children if c.dep_ == "prep" and c.lower_ in _CONTENT_PREPS]
            contents = [o for p in preps for o in p.children if o.dep_ in ("pobj", "pcomp")]
            if not contents:
                return None
            cue_end = preps[0]
        else:
            cue_end = noun
        source = self.token_span(list(owners[0].subtree)) if owners else None
        content = self.token_span(list(contents[0].subtree))
        if (owners and source is None) or content is None:
            return None
        cue = self.span(noun.idx, cue_end.idx + len(cue_end.text))
        return Attribution(
            content=[self.close_quote(self.with_quote_marks(content))],
            cue=[cue],
            source=[source] if source is not None else [],
            verb=noun.text,
        )

    def split_span(self, tokens: list[Any]) -> list[Span]:
        """Contiguous runs of ``tokens`` as spans (a phrase cut out of a sentence leaves two)."""
        runs: list[list[Any]] = []
        for t in sorted(tokens, key=lambda t: t.i):
            if runs and runs[-1][-1].i == t.i - 1:
                runs[-1].append(t)
            else:
                runs.append([t])
        spans = [self.token_span(run) for run in runs]
        return [self.with_quote_marks(s) for s in spans if s is not None]

    def verb(self, verb: Any, sent: Any) -> Attribution | None:
        """A speech verb with its subject and its complement."""
        if verb.dep_ in _NOT_SPEECH_HEADS:
            return None
        lemma = lemma_of(verb)
        # "refused to discuss", "plans to call on": the governing verb is the cue and the
        # infinitive its content
        if (
            verb.dep_ == "xcomp"
            and lemma_of(verb.head) in SPEECH_VERBS
            and verb.head.pos_ in ("VERB", "AUX")
        ):
            return None
        passive = self.passive(verb) or self.unsourced_passive(verb)
        if passive is not None:
            return passive
        content = self.verb_content(verb, lemma, sent)
        # "blamed each other": who blamed whom, not what was said
        if not content or content[0].text.lower() in _RECIPROCAL:
            return None
        source_token = self.subject_of(verb)
        if source_token is None:
            return None
        if lemma in PRIVATE and (
            source_token.lower_ in _PERSONAL or source_token.dep_ == "nsubjpass"
        ):
            return None
        source = self.source_span(source_token, leave_out=verb)
        if source is None:
            return None
        cue = self.cue_span(verb, content_prep=self._prep_content(verb, content))
        if any(s.start <= cue.start < s.end for s in content):
            return None
        return Attribution(content=content, cue=[cue], source=[source], verb=verb.text)

    def unsourced_passive(self, verb: Any) -> Attribution | None:
        """ "Nine voters in ten are expected to be Latino", "a curfew was announced": a
        report with no one named, marked as PolNeAR marks it, with no source.

        A raising verb's content is its subject and its infinitive; an addressee's ("she was
        told that …") only the clause.
        """
        subjects = [c for c in verb.children if c.dep_ == "nsubjpass"]
        if not subjects or subjects[0].i > verb.i or any(c.dep_ == "agent" for c in verb.children):
            return None
        if verb.dep_ not in ("ROOT", "ccomp", "conj", "advcl"):
            return None
        infinitives = [c for c in verb.children if c.dep_ == "xcomp" and c.i > verb.i]
        clauses = [c for c in verb.children if c.dep_ == "ccomp" and c.i > verb.i]
        if infinitives:
            tokens = [*subjects[0].subtree, *infinitives[0].subtree]
        elif clauses:
            tokens = list(clauses[0].subtree)
        elif lemma_of(verb) in CLAUSE_ONLY:
            return None
        else:
            tokens = list(subjects[0].subtree)
        content = self.split_span(tokens)
        first = self._left_of(verb)
        cue = self.span(first.idx, verb.idx + len(verb.text))
        if not content or any(s.start <= cue.start < s.end for s in content):
            return None
        return Attribution(content=content, cue=[cue], source=[], verb=verb.text)

    def passive(self, verb: Any) -> Attribution | None:
        """ "His views were echoed by experts": the agent says, the subject is what is said."""
        subjects = [c for c in verb.children if c.dep_ == "nsubjpass"]
        agents = [c for c in verb.children if c.dep_ == "agent"]
        if not subjects or not agents or subjects[0].i > verb.i:
            return None
        objects = [c for c in agents[0].children if c.dep_ == "pobj"]
        if not objects:
            return None
        content = self.token_span(list(subjects[0].subtree))
        source = self.source_span(objects[0])
        if content is None or source is None or agents[0].i != verb.i + 1:
            return None
        first = self._left_of(verb)
        while first.i > subjects[0].i + 1 and self.doc[first.i - 1].dep_ in ("aux", "auxpass"):
            first = self.doc[first.i - 1]
        cue = self.span(first.idx, agents[0].idx + len(agents[0].text))
        return Attribution(
            content=[self.with_quote_marks(content)], cue=[cue], source=[source], verb=verb.text
        )

    @staticmethod
    def content_preps(verb: Any) -> list[Any]:
        """The verb's prepositions whose object is what was said ("pointed to", "called for")."""
        own = _CONTENT_PREPS + VERB_PREPS.get(lemma_of(verb), ())
        return [c for c in verb.children if c.dep_ == "prep" and c.lower_ in own]

    def _prep_content(self, verb: Any, content: list[Span]) -> bool:
        """Whether the content is the object of a preposition of the verb."""
        for c in verb.children:
            if (
                c.dep_ == "prep"
                and c.lower_ in _CONTENT_PREPS + VERB_PREPS.get(lemma_of(verb), ())
                and c.idx + len(c.text) <= content[0].start
            ):
                return any(o.idx == content[0].start for o in c.children) or any(
                    o.left_edge.idx == content[0].start for o in c.children
                )
        return False

    def _left_of(self, verb: Any) -> Any:
        """The first token of the verb group: auxiliaries, negation, adverbs right before it."""
        first = verb
        while first.i > 0:
            before = self.doc[first.i - 1]
            if before.head.i == verb.i and before.dep_ in _CUE_LEFT:
                first = before
            else:
                break
        return first

    def cue_span(self, verb: Any, content_prep: bool = False) -> Span:
        """The verb group as PolNeAR marks cues: "has also said", "pointed out", "said:".

        Auxiliaries, negation and adverbs right before the verb belong to it, so do its
        particle and a colon right after it.
        """
        first = self._left_of(verb)
        # "went on to discuss", "appeared to suggest": the governing verb is part of the cue
        if (
            verb.dep_ == "xcomp"
            and verb.head.pos_ in ("VERB", "AUX")
            and verb.head.i < verb.i
            and lemma_of(verb.head) not in SPEECH_VERBS
        ):
            between = self.doc[verb.head.i + 1 : first.i]
            if all(t.dep_ in ("prt", "aux") or t.lower_ == "to" for t in between):
                first = self._left_of(verb.head)
        last = verb
        particles = [c for c in verb.children if c.dep_ == "prt" and c.i == verb.i + 1]
        if particles:
            last = particles[0]
        nxt = self.doc[last.i + 1] if last.i + 1 < len(self.doc) else None
        if nxt is not None and nxt.head.i == verb.i and nxt.lower_ in _WEEKDAYS:
            last = nxt  # "said Monday": PolNeAR's cues mostly keep the day
        last = self._manner_and_medium(verb, last)
        preps = self.content_preps(verb)
        if content_prep and preps and 0 < preps[0].i - last.i <= 3:
            last = preps[0]
        stance = self.stance_object(verb)
        if stance is not None and stance[0].i > last.i:
            last = stance[1]  # "expressed concern about"
        addressee = self.addressee_prep(verb)
        if addressee is not None and addressee.i == last.i + 1:
            last = addressee  # "called on"
        end = last.idx + len(last.text)
        if last.i + 1 < len(self.doc) and self.doc[last.i + 1].text == ":":
            end = self.doc[last.i + 1].idx + 1
        return self.span(first.idx, end)

    def _manner_and_medium(self, verb: Any, last: Any) -> Any:
        """The last token of the cue once manner and medium after the verb are taken in.

        "said sarcastically", "said in a statement", "told reporters in an interview with
        CNN": PolNeAR's cues run over them.
        """
        while last.i + 1 < len(self.doc):
            nxt = self.doc[last.i + 1]
            if nxt.head.i != verb.i:
                break
            if nxt.dep_ == "advmod" and nxt.pos_ == "ADV" and nxt.lower_ not in _NOT_MANNER:
                last = nxt
                continue
            medium = self.medium_of(nxt)
            if medium is None:
                break
            last = medium[-1]
        return last

    def medium_of(self, prep: Any) -> list[Any] | None:
        """ "in a statement", "in an interview with CNN": the tokens of a medium phrase."""
        if prep.dep_ != "prep" or prep.lower_ != "in":
            return None
        objects = [c for c in prep.children if c.dep_ == "pobj"]
        if not objects or objects[0].lemma_.lower() not in MEDIA_NOUNS:
            return None
        # a "that" clause parsed as a relative clause of "statement" is the content
        cut = {t.i for c in objects[0].children if self.is_that_clause(c) for t in c.subtree}
        tokens = [t for t in prep.subtree if t.i not in cut]
        run = [tokens[0]]
        for t in tokens[1:]:
            if t.i != run[-1].i + 1 or t.is_punct:
                break
            run.append(t)
        return run

    @staticmethod
    def is_that_clause(token: Any) -> bool:
        """A clause opening with "that" (a relative clause or a complement alike)."""
        return token.dep_ in ("relcl", "acl", "ccomp") and token.left_edge.lower_ == "that"

    def addressee_prep(self, verb: Any) -> Any | None:
        """The "on" of "called on Trump to resign": the one called on is part of the content."""
        if verb.lemma_.lower() not in _ADDRESSEE_ON:
            return None
        preps = [c for c in verb.children if c.dep_ == "prep" and c.lower_ == "on"]
        if preps and preps[0].i == verb.i + 1 and any(c.dep_ == "xcomp" for c in verb.children):
            return preps[0]
        return None

    def stance_object(self, verb: Any) -> tuple[Any, Any, Any] | None:
        """ "expressed concern about X", "voiced support for X": (noun, preposition, X).

        The noun names the stance, so it belongs to the cue; what it is about is the content.
        """
        for obj in verb.children:
            if obj.dep_ != "dobj" or obj.lemma_.lower() not in STANCE_NOUNS:
                continue
            for prep in obj.children:
                if prep.dep_ == "prep" and prep.lower_ in _STANCE_PREPS:
                    objects = [o for o in prep.children if o.dep_ in ("pobj", "pcomp")]
                    if objects and prep.i - obj.i <= 2:
                        return obj, prep, objects[0]
        return None

    def verb_content(self, verb: Any, lemma: str, sent: Any) -> list[Span]:
        """What the verb attributes: its clause, its object, or the quote it introduces."""
        paragraph = self.paragraph_after_colon(verb)
        if paragraph is not None:
            return [paragraph]
        stance = self.stance_object(verb)
        if stance is not None:
            span = self.token_span(list(stance[2].subtree))
            return [self.close_quote(self.with_quote_marks(span))] if span is not None else []
        clauses = [c for c in verb.children if c.dep_ in _CONTENT_DEPS]
        # "The revelation set off fireworks: Republicans said they …": a clause before a
        # colon is the article's own sentence, not what the subject said
        clauses = [
            c
            for c in clauses
            if not (
                c.i < verb.i
                and any(t.text in (":", ";") for t in self.doc[c.right_edge.i + 1 : verb.i])
            )
        ]
        if not clauses and lemma not in CLAUSE_ONLY:
            clauses = [c for c in verb.children if c.dep_ == "dobj"]
        if clauses and lemma in ("describe", "call", "label", "brand", "dub"):
            # "describing it as a threat", "called the deal a disaster"
            clauses += [c for c in verb.children if c.dep_ == "oprd" or c.lower_ == "as"]
        if not clauses:
            # "told a meeting of leaders that …": a complement clause hung on the object
            objects = [c for c in verb.children if c.dep_ in ("dobj", "dative")]
            objects += [o for c in verb.children if c.dep_ == "prep" for o in c.children]
            clauses = [
                t
                for o in objects
                for t in o.children
                if t.dep_ in ("relcl", "acl")
                and any(m.dep_ == "mark" and m.lower_ == "that" for m in t.children)
            ]
            # "have not said when they would …": an indirect question parsed as an adverbial
            # and "said after the convention he would not …": a complement clause with its
            # own subject and no conjunction, parsed as an adverbial
            clauses += [
                c
                for c in verb.children
                if c.dep_ == "advcl"
                and c.i > verb.i
                and (
                    c.left_edge.lower_ in _WH
                    or (
                        any(x.dep_ in ("nsubj", "nsubjpass") for x in c.children)
                        and not any(x.dep_ == "mark" for x in c.children)
                    )
                )
            ]
        if not clauses:
            # "said in a statement that …" parsed as a relative clause of "statement"
            for c in verb.children:
                medium = self.medium_of(c)
                if medium is not None:
                    clauses += [t for t in medium[-1].children if self.is_that_clause(t)]
                    clauses += [
                        t
                        for p in medium
                        if p.dep_ == "pobj"
                        for t in p.children
                        if self.is_that_clause(t)
                    ]
        if clauses:
            tokens = [t for c in clauses for t in c.subtree]
            addressee = self.addressee_prep(verb)
            if addressee is not None:
                tokens += [t for o in addressee.children for t in o.subtree]
            # "…, the AP reported." parsed inside the clause: that report is another
            # attribution, whose content holds this one
            trailing = {
                t.i
                for c in clauses
                for r in c.subtree
                if self.is_trailing_report(r)
                for t in r.subtree
            }
            tokens = [t for t in tokens if t.i not in trailing]
            # "announced the move Monday": the date says when, it is not what was said
            while tokens and tokens[-1].ent_type_ in ("DATE", "TIME") and clauses[0].dep_ == "dobj":
                tokens.pop()
            tokens.sort(key=lambda t: t.i)
            if tokens and tokens[0].i < verb.i < tokens[-1].i:
                return self.around_the_verb(tokens, verb)
            span = self.token_span(tokens)
            return [self.close_quote(self.with_quote_marks(span))] if span is not None else []
        # "complained about the rules", "called for a recount", "accused her of lying": the
        # object of the preposition is the content (the cue runs to the preposition)
        preps = self.content_preps(verb)
        if preps and not (verb.dep_ in ("parataxis", "ccomp") and verb.head.i < verb.i):
            objects = [c for c in preps[0].children if c.dep_ in ("pobj", "pcomp")]
            if objects:
                span = self.token_span(list(objects[0].subtree))
                if span is not None:
                    return [self.close_quote(self.with_quote_marks(span))]
        # '"…," Lavrov said.' or "…, the AP reported." parsed with the verb under the
        # clause it reports
        if verb.dep_ in ("parataxis", "ccomp", "conj", "advcl", "dep") and verb.head.i < verb.i:
            own = {t.i for t in verb.subtree}
            tokens = [t for t in sent if t.i not in own and t.i < verb.i]
            span = self.token_span(tokens)
            if span is not None and (
                self.quotes_in(span.start - 1, span.end + 2) or self.is_trailing_report(verb)
            ):
                return [self.with_quote_marks(span)]
        # "But to prevent problems, he said, officials should be vigilant", "As one user
        # pointed out, the gap is vast": the sentence around a parenthetical report is its
        # content
        as_clause = verb.dep_ == "advcl" and any(
            c.dep_ == "mark" and c.lower_ == "as" for c in verb.children
        )
        if (verb.dep_ == "parataxis" and verb.head.i > verb.i) or as_clause:
            own = {t.i for t in verb.subtree}
            tokens = [t for t in sent if t.i not in own]
            while tokens and (tokens[0].dep_ == "cc" or tokens[0].is_punct):
                tokens.pop(0)
            spans = self.split_span(tokens)
            if spans:
                return spans
        # '"… country?" Clinton said.' split into two sentences after the question mark
        if sent[0].i == verb.left_edge.i or self.doc[sent[0].i].dep_ == "nsubj":
            before = self.text[: sent.start_char].rstrip()
            quote = self.quote_at(len(before) - 1, len(before)) if before else None
            if quote is not None and quote.end == len(before):
                return [self.span(quote.start, quote.end)]
        # '… that is not a legitimate purpose," said Rep. Cummings.': a quote that began a
        # sentence or more before ends right before the verb
        before = self.text[sent.start_char : verb.idx]
        m = re.search(r"[”\"],?\s*(?:[\w.’'-]+\s+){0,6}$", before)
        if m is not None and before[max(m.start() - 1, 0) : m.end()].count(",") == 1:
            quote = self.quote_at(sent.start_char + m.start(), sent.start_char + m.start() + 1)
            if quote is not None and quote.start < sent.start_char:
                return [self.span(quote.start, quote.end)]
        # 'asking her, "I just want to know …"': the quote that follows the verb's words
        # (the quote may run on past the sentence: 'Trump said, "When people … . But …"')
        i = bisect.bisect_left(self._quote_starts, verb.idx)
        if i < len(self.quotes) and self.quotes[i].start < sent.end_char:
            q = self.quotes[i]
            gap = self.text[verb.idx + len(verb.text) : q.start]
            if len(gap) <= 30 and gap.rstrip().endswith((",", ":")) and '"' not in gap:
                return [self.span(q.start, q.end)]
        # a quote standing alone in the sentence: '"…" he said.' or 'He said: "…"'
        quotes = [
            q
            for q in self.quotes_in(sent.start_char, sent.end_char)
            if not (q.start <= verb.idx < q.end)
        ]
        # (not for a verb in a relative clause: "…," Obama said at the dinner, where Clinton
        # also spoke.)
        if len(quotes) == 1 and verb.dep_ not in ("relcl", "acl"):
            return [self.span(quotes[0].start, quotes[0].end)]
        return []

    def around_the_verb(self, tokens: list[Any], verb: Any) -> list[Span]:
        """A content parsed around its own cue: the part before the verb counts only if quoted.

        '"I think Holt will be fair," Trump said, "but …"' is one content of two quotes;
        'Writing for a panel, Barabak noted that …' is the clause after the verb alone.
        """
        before = self.split_span([t for t in tokens if t.i < verb.i])
        after = [self.close_quote(s) for s in self.split_span([t for t in tokens if t.i > verb.i])]
        quoted = [s for s in before if self.quote_at(s.start, s.end)]
        return quoted + after if after else before

    def is_trailing_report(self, token: Any) -> bool:
        """A ", the AP reported." that closes its sentence: speech verb, subject, comma."""
        if token.dep_ in ("ROOT", "nsubj") or lemma_of(token) not in SPEECH_VERBS:
            return False
        subjects = [c for c in token.children if c.dep_ in ("nsubj", "nsubjpass")]
        if not subjects or subjects[0].i > token.i:
            return False
        before = self.doc[subjects[0].left_edge.i - 1] if subjects[0].left_edge.i > 0 else None
        last = token.sent[-1]
        after = [
            t
            for t in self.doc[token.right_edge.i + 1 : last.i + 1]
            if not (t.is_punct or t.is_space)
        ]
        return before is not None and before.text == "," and not after

    def subject_of(self, verb: Any) -> Any | None:
        """The verb's subject, or that of the verb it hangs on ("…, adding that …")."""
        seen = 0
        while verb is not None and seen < 4:
            for child in verb.children:
                if child.dep_ in _SUBJECTS:
                    return child
                if child.dep_ == "agent":  # "was told by X"
                    objects = [c for c in child.children if c.dep_ == "pobj"]
                    if objects:
                        return objects[0]
            # "a tweet attacking …", "one saying that …": the noun a participle describes
            if (
                verb.dep_ == "acl"
                and verb.tag_ == "VBG"
                and verb.head.pos_ in _NOMINAL
                and lemma_of(verb) not in PRIVATE
            ):
                return verb.head
            # "responded by saying …": the subject of the verb the preposition hangs on
            if verb.dep_ == "pcomp" and verb.head.dep_ == "prep":
                verb = verb.head.head
                seen += 1
                continue
            if verb.dep_ in ("conj", "advcl", "xcomp", "acl") and verb.head is not verb:
                verb = verb.head
                seen += 1
                continue
            if verb.dep_ == "relcl":  # "Lavrov, who said …": the relative pronoun is nsubj
                return None
            return None
        return None

    def source_span(self, subject: Any, leave_out: Any = None) -> Span | None:
        """The subject's noun phrase as PolNeAR marks it.

        Modifiers, appositions and relative clauses belong to it ("Peter Morgan, a lawyer for
        the Sierra Club, who has been challenging …"); a participle set off by a comma does
        not ("Trump, speaking to a veterans group,"), nor does a leading "Both" or "Even", or
        a dateline ("BRUSSELS -").
        """
        tokens = list(subject.subtree)
        cut: set[int] = set()
        if leave_out is not None and leave_out.head.i == subject.i:
            cut |= {x.i for x in leave_out.subtree}  # "a tweet attacking …": not the tweet
        for t in tokens:
            if t.i == subject.i or t.i in cut:
                continue
            before = self.doc[t.left_edge.i - 1] if t.left_edge.i > 0 else None
            after_comma = (
                before is not None and before.text == "," and before.i >= subject.left_edge.i
            )
            # "Mr. Kamin, who emphasized that …": a relative clause that is an attribution of
            # its own; "a group of doctors in 2015": when, not who
            reports = t.dep_ == "relcl" and lemma_of(t) in SPEECH_VERBS
            dated = (
                t.dep_ == "prep"
                and t.head.i == subject.i
                and any(o.ent_type_ == "DATE" for o in t.children if o.dep_ == "pobj")
            )
            if (after_comma and (t.dep_ in _ASIDES or reports)) or dated:
                cut |= {x.i for x in t.subtree}
        kept = [t for t in tokens if t.i not in cut]
        # a comma left hanging after the cut closes the phrase
        while kept and kept[0].lower_ in _LEADING and kept[0].i < subject.i:
            kept.pop(0)
        for k, t in enumerate(kept[:4]):
            if t.text in ("-", "--", "—", "–") and all(x.is_upper for x in kept[:k] if x.is_alpha):
                kept = kept[k + 1 :]
                break
        if cut and kept:
            end = kept[-1].i
            nxt = self.doc[end + 1] if end + 1 < len(self.doc) else None
            span = self.token_span(kept)
            if span is not None and nxt is not None and nxt.text == "," and "," in span.text:
                return self.span(span.start, nxt.idx + 1)
            return span
        tokens = kept
        span = self.token_span(tokens)
        if span is None or any(c in span.text for c in '“”"'):
            return None
        # "Brian Fallon, the campaign's press secretary, said": PolNeAR's source runs to the
        # comma that closes the apposition
        if "," in span.text and self.text[span.end : span.end + 1] == ",":
            return self.span(span.start, span.end + 1)
        return span

    # --- quotes running on ------------------------------------------------------------------

    def continue_quotes(self, found: list[Attribution]) -> None:
        """A direct quote runs on over the quotes that follow it in the same paragraph.

        '"We suspend the work of our mission," Lavrov said. "Or it may take several more
        days."': the second quote has no attribution of its own, so it is Lavrov's too; so is
        the second half of '"…," he said, "…."'. The run stops at a paragraph break, at
        another attribution's cue, and at words of the article's own between two quotes.
        """
        used = {s.start for a in found for s in a.content}
        cues = sorted(c.start for a in found for c in a.cue)
        for attribution in found:
            last = attribution.content[-1]
            # a content that ends with a quote: a whole quote, or 'The summit accomplished
            # "too little,"' whose quote runs on in the next sentence
            quote = self.quote_at(last.end - 1, last.end)
            if quote is None or quote.end != last.end:
                continue
            own = {c.start for c in attribution.cue}
            pos = last.end
            while True:
                i = bisect.bisect_left(self._quote_starts, pos)
                if i >= len(self.quotes):
                    break
                nxt = self.quotes[i]
                gap = self.text[pos : nxt.start]
                if "\n" in gap or nxt.start in used:
                    break
                lo, hi = bisect.bisect_left(cues, pos), bisect.bisect_left(cues, nxt.start)
                in_gap = set(cues[lo:hi])
                # a cue inside this attribution's own source ("said Peter Morgan, who has
                # been challenging …") does not end the run
                in_gap = {
                    c for c in in_gap if not any(s.start <= c < s.end for s in attribution.source)
                }
                if in_gap - own:
                    break
                if not in_gap and gap.strip(" .,;:—–-") != "":
                    break
                # '"…," Obama said at the rally. "…"': the words around the cue are its
                # sentence's, but a new sentence of the article's own in between ends the run
                if in_gap and not self._same_sentence_or_next(pos, nxt.start):
                    break
                attribution.content.append(self.span(nxt.start, nxt.end))
                used.add(nxt.start)
                pos = nxt.end

    def _same_sentence_or_next(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` holds at most one sentence boundary."""
        span = self.doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            return False
        return sum(1 for t in span[1:] if t.is_sent_start) <= 1

    def quote_kind(self, content: list[Span]) -> str:
        """direct (all within quotation marks), mixed (partly) or indirect (none)."""
        if all(self.quote_at(s.start, s.end) for s in content):
            return "direct"
        if any(self.quotes_in(s.start, s.end) for s in content):
            return "mixed"
        return "indirect"


def lemma_of(token: Any) -> str:
    """The token's lemma, lower-cased, with the small model's known slips put right."""
    return LEMMA_FIXES.get(token.lower_, token.lemma_.lower())


def find_attributions(doc: Any) -> list[Attribution]:
    """The attributions of a parsed spaCy ``Doc``, in text order."""
    return Finder(doc).find()
