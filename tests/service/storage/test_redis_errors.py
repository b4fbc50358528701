"""service.storage.redis_errors: every Redis refusal a client cannot fix has a class and a fix.

The errors are built by redis-py's own reply parser from the replies Redis
sends, so a refusal is classified as it arrives; tests/service/reliability/
test_redis_refusals.py provokes the main ones on a real redis-server.
"""

from __future__ import annotations

import pytest
import redis
from redis._parsers.base import BaseParser

from service.storage import redis_errors

WHERE = "Redis at redis://127.0.0.1:6379/0"


def reply(text: str) -> redis.RedisError:
    """The exception redis-py raises for the error reply ``-text``."""
    exc = BaseParser.parse_error(text)
    assert isinstance(exc, redis.RedisError)
    return exc


def in_script(text: str) -> redis.RedisError:
    """A command refused inside a Lua script, as Redis 6.2 reports it."""
    return reply(
        "ERR Error running script (call to f_d223ed8c7345b684e8ed044ed472601f536fa58b): "
        f"@user_script:12: @user_script: 12: -{text}"
    )


# (Redis error reply, class, a word the operator's advice must contain)
REPLIES = [
    ("OOM command not allowed when used memory > 'maxmemory'.", "OOM", "maxmemory"),
    (
        "MISCONF Redis is configured to save RDB snapshots, but it is currently not able to "
        "persist on disk.",
        "MISCONF",
        "disk",
    ),
    ("READONLY You can't write against a read only replica.", "READONLY", "primary"),
    (
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        "MASTERDOWN",
        "primary",
    ),
    ("NOREPLICAS Not enough good replicas to write.", "NOREPLICAS", "min-replicas-to-write"),
    ("LOADING Redis is loading the dataset in memory", "LOADING", "Retry"),
    (
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        "BUSY",
        "SCRIPT KILL",
    ),
    ("NOSCRIPT No matching script. Please use EVAL.", "NOSCRIPT", "SCRIPT FLUSH"),
    (
        "NOPERM this user has no permissions to run the 'evalsha' command or its subcommand",
        "NOPERM",
        "ACL",
    ),
    ("WRONGPASS invalid username-password pair or user is disabled.", "AUTH", "password"),
    ("NOAUTH Authentication required.", "AUTH", "password"),
    ("MOVED 3999 127.0.0.1:6381", "CLUSTER", "every master"),
    ("CLUSTERDOWN The cluster is down", "CLUSTER", "every master"),
    ("TRYAGAIN Multiple keys request during rehashing of slot", "CLUSTER", "every master"),
    (
        "WRONGTYPE Operation against a key holding the wrong kind of value",
        "WRONGTYPE",
        "copydesk check",
    ),
]


@pytest.mark.parametrize(("text", "code", "advice"), REPLIES, ids=[r[1] for r in REPLIES])
def test_each_refusal_has_its_class_and_fix(text: str, code: str, advice: str) -> None:
    exc = reply(text)
    refusal = redis_errors.classify(exc)
    assert (refusal.code, refusal.status) == (code, 503)
    said = redis_errors.detail(exc, WHERE)
    assert said.startswith(WHERE) and f"({code})" in said and advice in said
    assert "nothing was stored" in said


@pytest.mark.parametrize(
    ("text", "code"),
    [(t, c) for t, c, _ in REPLIES if c not in ("AUTH", "CLUSTER", "NOSCRIPT")],
    ids=[c for _, c, _ in REPLIES if c not in ("AUTH", "CLUSTER", "NOSCRIPT")],
)
def test_a_command_refused_inside_a_script_is_that_refusal(text: str, code: str) -> None:
    assert redis_errors.code_of(in_script(text)) == code


def test_a_refusal_inside_a_pipeline_is_classified_and_its_arguments_not_quoted() -> None:
    exc = reply("OOM command not allowed when used memory > 'maxmemory'.")
    exc.args = (f"Command # 1 (HSET k text secret-article-words) of pipeline caused error: {exc}",)
    assert redis_errors.code_of(exc) == "OOM"
    assert "secret-article-words" not in redis_errors.detail(exc, WHERE)
    other = redis.ResponseError(
        "Command # 2 (HSET k text secret-article-words) of pipeline caused error: ERR odd"
    )
    said = redis_errors.detail(other, WHERE)
    assert "ERR odd" in said and "secret-article-words" not in said


def test_connection_loss_and_unknown_errors() -> None:
    lost = redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    assert redis_errors.classify(lost).code == "CONNECTION"
    assert redis_errors.classify(lost).retry_after
    assert "is unavailable (ConnectionError); nothing was stored" in redis_errors.detail(
        lost, WHERE
    )
    assert redis_errors.classify(redis.TimeoutError("Timeout reading")).code == "CONNECTION"
    # A Lua error of copydesk's own (a bug): still 503, the Redis words shown, no secret.
    bug = in_script("attempt to index a nil value")
    assert redis_errors.classify(bug).code == "OTHER"
    assert "attempt to index a nil value" in redis_errors.detail(bug, WHERE)
    assert redis_errors.classify(reply("ERR unknown command 'FOO'")).status == 503


def test_every_class_says_what_to_do() -> None:
    for code, refusal in redis_errors.CLASSES.items():
        assert refusal.code == code
        assert refusal.action.rstrip().endswith(".")
        assert "Operators" in refusal.action or "Retry" in refusal.action
