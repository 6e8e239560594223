"""The base's manifest is parsed once per base commit: a second review of the same base reads it
from target/martsmith_review/base/, and its parse is seeded with the project's own parse state."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def _base(root, ref):
    from martsmith.context.project import load_project
    from martsmith.review.build import review_run

    with review_run(load_project(root)) as run:
        manifest = run.base_from_ref(ref)
        return manifest, run.base_cached, (run.state_dir / "manifest.json").is_file()


def test_the_base_manifest_is_cached_per_commit_and_the_same_as_a_fresh_parse(review_repo, commit):
    first, cached, state = _base(review_repo, "base")
    assert not cached and state
    # A fresh checkout has no parse state: the working tree is parsed as dbt would, to seed it.
    assert (review_repo / "target" / "partial_parse.msgpack").is_file()
    again, cached, state = _base(review_repo, "base")
    assert cached and state
    assert again.models == first.models and again.children == first.children

    (review_repo / "models/marts/revenue_share.sql").write_text("select 1 as country_name\n")
    commit("a new base")
    moved, cached, _ = _base(review_repo, "HEAD")
    assert not cached  # another commit, another entry
    assert moved.models["revenue_share"].checksum != first.models["revenue_share"].checksum
    assert moved.models["order_count_by_status"] == first.models["order_count_by_status"]
    bases = [d for d in (review_repo / "target/martsmith_review/base").iterdir() if d.is_dir()]
    assert len(bases) == 2
