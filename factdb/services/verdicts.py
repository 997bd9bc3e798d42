"""Fact-checkers' verdicts, kept apart from the allegation status.

Labels are normalised through the known rating scales (``scale_ratings``): a label is compared
by its key (case-folded, accents stripped, ``-`` and ``_`` read as spaces), so "Pants on Fire",
"pants-fire" and "PANTS ON FIRE" are the same rating. A known label gets its scale's ordinal and
normalised class (true / false / mixture / other); an unknown label is kept verbatim with the
class "other".
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from factdb.dates import parse_partial
from factdb.errors import FactdbError, NotFound
from factdb.models import RatingScale, ScaleRating, Verdict

# label_key lives in textkeys (no models) so that listings can use it; re-exported here
from factdb.text import clean
from factdb.textkeys import label_key, name_key


def find_scale(session: Session, name: str) -> RatingScale | None:
    """A rating scale by name, case- and accent-insensitively ("truth-o-meter")."""
    key = name_key(name)
    for scale in session.scalars(select(RatingScale).order_by(RatingScale.id)):
        if name_key(scale.name) == key:
            return scale
    return None


def normalise_label(
    session: Session, label: str, scale: str | None = None
) -> tuple[ScaleRating | None, str]:
    """The known rating a label names and its normalised class; (None, "other") if unknown.

    With ``scale`` only that scale's labels are considered (an unknown scale knows no labels);
    without it the first scale (in id order: Truth-O-Meter, then Snopes, …) that has the label
    wins.
    """
    key = label_key(label)
    query = select(ScaleRating).where(ScaleRating.label_key == key)
    if scale:
        found = find_scale(session, scale)
        if found is None:
            return None, "other"
        query = query.where(ScaleRating.scale_id == found.id)
    rating = session.scalars(query.order_by(ScaleRating.scale_id, ScaleRating.id)).first()
    if rating is None:
        return None, "other"
    return rating, rating.normalised_class


def add_verdict(
    session: Session,
    claim_id: int,
    label: str,
    *,
    reviewer: str | None = None,
    reviewed_on: str | None = None,
    url: str | None = None,
    scale: str | None = None,
    rating_value: int | None = None,
    best_rating: int | None = None,
    worst_rating: int | None = None,
) -> Verdict:
    """Record a fact-checker's rating of a claim.

    The label is stored as given; a known scale label also sets the ordinal (``rating_value``,
    unless given) and the scale's best and worst ordinals (unless given). ``reviewed_on`` is
    YYYY, YYYY-MM or YYYY-MM-DD and stored as its first day.
    """
    from factdb.services.claims import get_claim

    statement = get_claim(session, claim_id)
    cleaned = clean(label or "")
    if not cleaned:
        raise FactdbError("a verdict label cannot be empty")
    when = parse_partial(reviewed_on) if reviewed_on else None
    rating, normalised = normalise_label(session, cleaned, scale)
    if rating is not None:
        ordinals = [r.ordinal for r in rating.scale.ratings]
        rating_value = rating.ordinal if rating_value is None else rating_value
        best_rating = max(ordinals) if best_rating is None else best_rating
        worst_rating = min(ordinals) if worst_rating is None else worst_rating
    verdict = Verdict(
        statement_id=statement.id,
        label=cleaned,
        reviewer=clean(reviewer) if reviewer else None,
        reviewed_on=when.start if when else None,
        url=url.strip() if url else None,
        scale_rating_id=rating.id if rating else None,
        rating_value=rating_value,
        best_rating=best_rating,
        worst_rating=worst_rating,
        normalised_class=normalised,
    )
    session.add(verdict)
    session.flush()
    return verdict


def remove_verdict(session: Session, verdict_id: int, claim_id: int | None = None) -> Verdict:
    """Remove verdict ``verdict_id`` (of claim ``claim_id``, when given, as a check).

    The audit log keeps what it said; returns the removed verdict.
    """
    verdict = session.get(Verdict, int(verdict_id))
    if verdict is None or (claim_id is not None and verdict.statement_id != int(claim_id)):
        owner = f" on claim {claim_id}" if claim_id is not None else ""
        raise NotFound(f"no verdict with id {verdict_id}{owner}")
    session.delete(verdict)
    session.flush()
    return verdict
