"""service.model: the errors say what to do, and the types hold what they say."""

from __future__ import annotations

import dataclasses

from service.model import Contention, Match, MatchesUnavailable, StoredArticle
from shingling import Verdict


def test_contention_names_the_article_and_when_to_retry() -> None:
    err = Contention("a-1", "write", 8)
    assert err.article_id == "a-1"
    assert "'a-1'" in str(err) and "8 times" in str(err) and "retry it after 1 s" in str(err)


def test_matches_unavailable_keeps_its_cause() -> None:
    cause = ConnectionError("down")
    err = MatchesUnavailable("a", "created", cause)
    assert (err.article_id, err.status, err.cause) == ("a", "created", cause)
    assert "was created" in str(err)


def test_a_match_number_is_not_part_of_its_identity() -> None:
    a = Match("x", None, None, None, 0.5, 0.6, 0.7, 10, Verdict.PARTIAL, number=1)
    b = dataclasses.replace(a, number=2)
    assert a == b and "number" not in repr(a)
    assert a.passages == [] and a.query_share == 0.0


def test_a_stored_article_has_no_dead_fields() -> None:
    names = [f.name for f in dataclasses.fields(StoredArticle)]
    assert names == ["id", "text", "title", "source", "url", "published_at", "ingested_at"]
