"""The audit log (factdb.audit, services.auditlog) without the CLI, on both backends: every
change is logged in its own transaction, with who, what, before and after; bulk statements and
imports too; a deleted claim's history stays."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from factdb.audit import current_actor
from factdb.io.loader import Loader
from factdb.io.readers import read_records
from factdb.models import AuditEntry, Statement
from factdb.services.attributions import move_source
from factdb.services.auditlog import read_log
from factdb.services.claims import AttributionInput, add_claim, delete_claim, edit_claim
from factdb.services.links import link_claims
from factdb.services.sources import add_source_alias, create_source, merge_sources
from factdb.services.speakers import create_speaker, merge_speakers
from factdb.services.statuses import add_status_event, withdraw_status_event
from factdb.services.verdicts import add_verdict


def _entries(session: Session, **filters) -> list[tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    return [(e["action"], e["table"], e["row_id"]) for e in read_log(session, **filters)]


def _claim(session: Session, text: str = "NATO expels eight.", **extra):  # type: ignore[no-untyped-def]
    return add_claim(session, text=text, speaker="NATO", speaker_kind="organisation", **extra)


def test_every_change_is_logged_with_before_and_after(session: Session) -> None:
    session.info["actor"] = "desk"
    claim = _claim(session, said_on="2021-10-06", sources=[AttributionInput("Associated Press")])
    edit_claim(session, claim.id, text="NATO expels eight officials.", tags=["nato"])
    entries = list(read_log(session, claim_id=claim.id))
    assert [(e["action"], e["table"]) for e in entries[:2]] == [
        ("insert", "statements"),
        ("insert", "attributions"),
    ]
    # one edit, one entry, with before and after of every field it changed
    updates = entries[2:]
    assert [(e["action"], e["table"], e["changed_by"], e["claim_id"]) for e in updates] == [
        ("update", "statements", "desk", claim.id)
    ]
    assert updates[0]["before"] == {"text": "NATO expels eight.", "tags": []}
    assert updates[0]["after"] == {"text": "NATO expels eight officials.", "tags": ["nato"]}
    assert "text: NATO expels eight. → NATO expels eight officials." in updates[0]["change"]
    # speakers and sources are logged too, without a claim
    assert ("insert", "speakers") in [(a, t) for a, t, _ in _entries(session, table="speakers")]


def test_one_edit_of_many_fields_is_one_entry(session: Session) -> None:
    create_speaker(session, "Oana Lungescu")
    claim = _claim(session, said_on="2021-10-06", tags=["old"])
    before = len(list(read_log(session, claim_id=claim.id)))
    edit_claim(
        session,
        claim.id,
        text="NATO expels eight Russian officials.",
        speaker="Oana Lungescu",
        said_on="2021-10-07",
        context="At NATO headquarters.",
        tags=["nato", "expulsions"],
    )
    updates = list(read_log(session, claim_id=claim.id))[before:]
    assert len(updates) == 1
    assert set(updates[0]["after"]) == {
        "text",
        "speaker_id",
        "said_on",
        "context",
        "tags",
    }
    assert updates[0]["before"]["tags"] == ["old"]
    assert updates[0]["after"]["tags"] == ["expulsions", "nato"]


def test_status_link_verdict_and_withdrawal_are_logged(session: Session) -> None:
    claim = _claim(session, said_on="2021-10-06", status="alleged")
    other = add_claim(session, text="Baseless.", speaker="Moscow", speaker_kind="organisation")
    event = add_status_event(session, claim.id, "denied", "2021-10-07")
    withdraw_status_event(session, claim.id, event.id, note="wrong day", withdrawn_by="desk")
    link_claims(session, other.id, "denies", claim.id)
    add_verdict(session, claim.id, "False")
    tables = [t for _, t, _ in _entries(session, claim_id=claim.id)]
    assert tables.count("status_events") == 3  # two added, one withdrawn
    assert "verdicts" in tables and "statement_links" not in tables  # a link is its from-claim's
    assert ("insert", "statement_links", 1) in _entries(session, claim_id=other.id)
    withdrawal = [e for e in read_log(session, claim_id=claim.id) if e["action"] == "update"][-1]
    assert withdrawal["after"]["withdrawn_note"] == "wrong day"
    assert withdrawal["before"]["withdrawn_note"] is None


def test_reorder_logs_only_net_changes(session: Session) -> None:
    claim = _claim(
        session, sources=[AttributionInput("A one"), AttributionInput("B two", force_new=True)]
    )
    move_source(session, claim.id, 2, 1)
    updates = [e for e in read_log(session, claim_id=claim.id) if e["action"] == "update"]
    assert sorted((e["before"]["position"], e["after"]["position"]) for e in updates) == [
        (1, 2),
        (2, 1),
    ]


def test_deleted_claim_keeps_its_history(session: Session) -> None:
    claim = _claim(session, said_on="2021-10-06", status="alleged")
    claim_id = claim.id
    delete_claim(session, claim_id)
    assert session.get(Statement, claim_id) is None
    actions = _entries(session, claim_id=claim_id)
    assert ("delete", "statements", claim_id) in actions
    assert ("delete", "status_events", 1) in actions
    assert actions[0] == ("insert", "statements", claim_id)
    deleted = [e for e in read_log(session, claim_id=claim_id) if e["table"] == "statements"][-1]
    assert deleted["before"]["text"] == "NATO expels eight."


def test_bulk_statements_are_logged(session: Session) -> None:
    """A speaker merge moves claims with one bulk UPDATE: each moved claim is logged."""
    create_speaker(session, "Sergey Lavrov")
    typo = create_speaker(session, "Sergei Lavrow", force=True)
    claim = add_claim(session, text="We suspend our mission.", speaker="Sergei Lavrow")
    merge_speakers(session, typo.id, "Sergey Lavrov")
    moved = [
        e
        for e in read_log(session, claim_id=claim.id)
        if e["action"] == "update" and "speaker_id" in e["after"]
    ]
    assert len(moved) == 1 and moved[0]["before"]["speaker_id"] == typo.id
    ap = create_source(session, "Associated Press")
    bad = create_source(session, "Asociated Press", force=True)
    add_source_alias(session, bad.id, "AP")
    other = _claim(session, text="Another.", sources=[AttributionInput("Asociated Press")])
    merge_sources(session, bad.id, ap.id)
    changes = [e["after"] for e in read_log(session, claim_id=other.id) if e["action"] == "update"]
    assert {"source_id": ap.id} in changes


def test_rolled_back_changes_leave_no_entries(engine: Engine) -> None:
    with Session(engine) as session:
        _claim(session)
        assert session.scalar(select(func.count()).select_from(AuditEntry)) > 0
        session.rollback()
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_an_import_is_one_entry(session: Session) -> None:
    lines = "".join(
        f'{{"text": "Claim number {i}.", "speaker": "Speaker {i % 3}"}}\n' for i in range(20)
    )
    loader = Loader(session, label="claims.jsonl")
    loader.load(read_records(io.BytesIO(lines.encode()), "claims.jsonl", "jsonl"))
    [entry] = list(read_log(session))
    assert entry["action"] == "import" and entry["table"] == "statements"
    first, last = session.execute(select(func.min(Statement.id), func.max(Statement.id))).one()
    assert entry["after"]["added"] == 20 and entry["after"]["file"] == "claims.jsonl"
    assert (entry["after"]["first_claim_id"], entry["after"]["last_claim_id"]) == (first, last)
    assert entry["change"].startswith("20 added, 0 changed")


def test_read_log_filters(session: Session) -> None:
    import datetime as dt

    session.info["actor"] = "alice"
    first = _claim(session)
    session.info["actor"] = "bob"
    second = _claim(session, text="Second.")
    assert {e["claim_id"] for e in read_log(session, by="alice")} == {first.id, None}
    assert [e["row_id"] for e in read_log(session, table="statements")] == [first.id, second.id]
    assert list(read_log(session, since=dt.date.today() + dt.timedelta(days=1))) == []
    assert len(list(read_log(session, limit=1))) == 1


def test_actor_resolution(monkeypatch: pytest.MonkeyPatch, session: Session) -> None:
    monkeypatch.setenv("FACTDB_USER", "env-user")
    assert current_actor(session) == "env-user"
    session.info["actor"] = "cli-user"
    assert current_actor(session) == "cli-user"
    monkeypatch.delenv("FACTDB_USER")
    import getpass

    assert current_actor() == getpass.getuser()
