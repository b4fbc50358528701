"""bench.load: a bounded HTTP load run against a real ``copydesk serve``."""

from __future__ import annotations

from bench.load import run


def test_a_bounded_run_stops_at_its_request_budget_without_errors() -> None:
    result = run(clients=2, seconds=60, max_requests=40, match_share=0.5)
    assert result["requests"] == 40 and result["errors"] == {}
    statuses = result["statuses"]
    assert isinstance(statuses, dict)
    assert set(statuses) <= {"post 201", "match 200"} and sum(statuses.values()) == 40
