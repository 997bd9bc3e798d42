"""factdb.tables (the Core descriptions the listings use) agrees with the ORM models."""

from __future__ import annotations

import pytest

from factdb import models, tables


@pytest.mark.parametrize("core", tables.ALL, ids=lambda tb: tb.name)
def test_every_core_column_exists_in_the_model_with_its_type(core) -> None:
    orm = models.Base.metadata.tables[core.name]
    for col in core.columns:
        assert col.name in orm.c, f"{core.name}.{col.name} is not in models.py"
        # the type family matters for bind/result processing (dates above all)
        assert col.type._type_affinity is orm.c[col.name].type._type_affinity, (
            f"{core.name}.{col.name}: {col.type!r} vs {orm.c[col.name].type!r}"
        )


def test_verdict_classes_match_the_models() -> None:
    assert tables.VERDICT_CLASSES == models.VERDICT_CLASSES


def test_services_keep_exporting_the_key_functions() -> None:
    """normalise_code, normalise_tag and label_key moved to textkeys; services re-export them."""
    from factdb import textkeys
    from factdb.services import claims, statuses, verdicts

    assert statuses.normalise_code is textkeys.normalise_code
    assert claims.normalise_tag is textkeys.normalise_tag
    assert verdicts.label_key is textkeys.label_key
    assert textkeys.normalise_code(" Under-Review  now") == "under_review_now"
    assert textkeys.normalise_tag("  NATO   Expulsions ") == "nato expulsions"
    assert textkeys.label_key("Pants-on-Fire") == "pants on fire"
