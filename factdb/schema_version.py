"""The Alembic revision this version of factdb expects (kept equal to the head by a test).

Ordinary commands compare the database against this constant with one query instead of
importing Alembic, which keeps start-up fast.
"""

HEAD_REVISION = "0010_claim_vectors"
KNOWN_REVISIONS = frozenset(
    {
        "0001_core",
        "0002_fts",
        "0003_short_content_key",
        "0004_fts_external_content",
        "0005_content_key_index",
        "0006_partial_evidence_indexes",
        "0007_text_identity",
        "0008_audit_log",
        "0009_unknown_speaker",
        "0010_claim_vectors",
    }
)
