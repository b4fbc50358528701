"""What a Redis error means for the operator: its class, HTTP status and the fix.

Every error Redis answers that a client cannot fix (out of memory, a failed
save, a read-only replica, a busy or loading server, a missing ACL
permission, ...) is a 503 whose detail says what happened and what the
operator should do, like the classes of PostgreSQL's SQLSTATE codes. The
classes are listed in docs/reliability.md.

The code is taken from the exception's class where redis-py maps it
(``OutOfMemoryError``: ``OOM``), else from the reply's first word
(``MISCONF ...``), else from inside a script's error (``Error running script
(...): @user_script:12: -OOM command not allowed ...``): a command refused
inside ``put.lua`` is reported as the command's refusal, not as a script bug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import redis
import redis.exceptions as rex


@dataclass(frozen=True)
class Refusal:
    """One class of Redis error: what happened, what to do, and how to answer."""

    code: str  # the Redis error code: OOM, MISCONF, READONLY, ... or CONNECTION
    reason: str  # what Redis refused, in the operator's words
    action: str  # what the operator does about it
    retry_after: int | None = None  # seconds, for classes that pass by themselves
    status: int = 503


_CONNECTION = Refusal(
    "CONNECTION",
    "is unavailable",
    "Retry shortly; operators: check the Redis server.",
    retry_after=5,
)

#: The classes, by Redis error code. Keep docs/reliability.md in step.
CLASSES: dict[str, Refusal] = {
    r.code: r
    for r in (
        Refusal(
            "OOM",
            "is out of memory (used memory > maxmemory) and refuses writes",
            "Operators: raise maxmemory (CONFIG SET maxmemory, redis.conf), or free space "
            "(COPYDESK_RETENTION_DAYS, DELETE old articles); keep maxmemory-policy noeviction.",
        ),
        Refusal(
            "MISCONF",
            "cannot save to disk and refuses writes (stop-writes-on-bgsave-error)",
            "Operators: check free disk space and permissions of Redis's dir (CONFIG GET dir) "
            "and the Redis log; writes resume after the next successful save (BGSAVE).",
        ),
        Refusal(
            "READONLY",
            "is a read-only replica",
            "Operators: point COPYDESK_REDIS_URL at the primary (after a failover, the new one).",
        ),
        Refusal(
            "MASTERDOWN",
            "is a replica that lost its primary (replica-serve-stale-data no)",
            "Operators: restore the link to the primary, or point COPYDESK_REDIS_URL at it.",
            retry_after=5,
        ),
        Refusal(
            "NOREPLICAS",
            "has fewer replicas than min-replicas-to-write and refuses writes",
            "Operators: bring the replicas back, or lower min-replicas-to-write.",
            retry_after=5,
        ),
        Refusal(
            "LOADING",
            "is loading its dataset into memory",
            "Retry in a few seconds; operators: nothing to do unless it lasts.",
            retry_after=5,
        ),
        Refusal(
            "BUSY",
            "is busy running a long script or function",
            "Retry shortly; operators: wait for it, or stop it with SCRIPT KILL (FUNCTION KILL).",
            retry_after=5,
        ),
        Refusal(
            "NOSCRIPT",
            "dropped copydesk's scripts again while they were reloaded (SCRIPT FLUSH)",
            "Retry; operators: find what flushes the script cache, or a proxy that does not "
            "forward SCRIPT LOAD.",
            retry_after=1,
        ),
        Refusal(
            "NOPERM",
            "denies a command or key to copydesk's user (ACL)",
            "Operators: grant the user the commands and keys of the index "
            "(e.g. ACL SETUSER <user> +@all ~*), see the Redis ACL LOG.",
        ),
        Refusal(
            "AUTH",
            "refused the credentials",
            "Operators: fix the user and password in COPYDESK_REDIS_URL.",
        ),
        Refusal(
            "CLUSTER",
            "cannot serve a slot of the index (CLUSTERDOWN, MOVED, ASK, TRYAGAIN, or "
            "no node holds it)",
            "Retry shortly; operators: check that every master of the Redis Cluster is up "
            "and every slot is served (redis-cli CLUSTER INFO, CLUSTER NODES). With "
            "COPYDESK_REDIS_URL pointing at a single Redis, unset COPYDESK_REDIS_CLUSTER.",
            retry_after=5,
        ),
        Refusal(
            "WRONGTYPE",
            "holds a key of the index with data of another type",
            "Operators: another program writes under the index's keys; run `copydesk check` "
            "and give copydesk its own database or COPYDESK_INDEX.",
        ),
    )
}

_OTHER = Refusal(
    "OTHER",
    "refused the command",
    "Operators: see the Redis log and the copydesk log for the full error.",
)

_BY_CLASS: tuple[tuple[type[BaseException], str], ...] = (
    (rex.OutOfMemoryError, "OOM"),
    (rex.ReadOnlyError, "READONLY"),
    (rex.NoScriptError, "NOSCRIPT"),
    (rex.BusyLoadingError, "LOADING"),  # a ConnectionError: before the check for those
    (rex.NoPermissionError, "NOPERM"),
    (rex.AuthenticationError, "AUTH"),  # also a ConnectionError
    (rex.AuthorizationError, "AUTH"),
    (rex.MasterDownError, "MASTERDOWN"),
    (rex.ClusterError, "CLUSTER"),
    (rex.AskError, "CLUSTER"),
    (rex.MovedError, "CLUSTER"),
    (rex.TryAgainError, "CLUSTER"),
)

_ALIASES = {
    "NOAUTH": "AUTH",
    "WRONGPASS": "AUTH",
    "MOVED": "CLUSTER",
    "ASK": "CLUSTER",
    "TRYAGAIN": "CLUSTER",
    "CLUSTERDOWN": "CLUSTER",
    "CROSSSLOT": "CLUSTER",
    "BUSYGROUP": "OTHER",
}

# "-OOM command not allowed", inside a script's error message.
_IN_SCRIPT = re.compile(r"(?:^|[\s:])-([A-Z]{3,})\b")
_LEADING = re.compile(r"^([A-Z]{3,})\b")


#: What stops a Redis call: redis-py's errors, and its cluster client's own
#: (``SlotNotCoveredError`` and the like are not ``RedisError``s).
Failure = redis.RedisError | rex.RedisClusterException


def _without_command(exc: Failure) -> str:
    """The error's message without redis-py's ``Command # 1 (HSET ...) of pipeline
    caused error:`` prefix (the command's arguments may be article text)."""
    return str(exc).rpartition(" of pipeline caused error: ")[2]


def code_of(exc: Failure) -> str:
    """The Redis error code of ``exc`` (``OOM``, ``MISCONF``, ...), or ``CONNECTION``/``OTHER``."""
    if isinstance(exc, rex.RedisClusterException):  # redis-py's own: no node serves a slot
        return "CLUSTER"
    for cls, code in _BY_CLASS:
        if isinstance(exc, cls):
            return code
    message = _without_command(exc)
    found = _LEADING.match(message) or _IN_SCRIPT.search(message)
    if found:
        code = _ALIASES.get(found.group(1), found.group(1))
        if code in CLASSES:
            return code
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return "CONNECTION"
    return "OTHER"


def classify(exc: Failure) -> Refusal:
    """The class of ``exc`` (see ``CLASSES``); connection loss and unknown codes included."""
    code = code_of(exc)
    if code == "CONNECTION":
        return _CONNECTION
    return CLASSES.get(code, _OTHER)


def _said(exc: Failure) -> str:
    """Redis's own words, without the command (whose arguments may be article text)."""
    message = _without_command(exc)
    return message.splitlines()[0][:200] if message else type(exc).__name__


def detail(exc: Failure, where: str, *, request: bool = True) -> str:
    """The ``detail`` of an answer that ``exc`` stopped; ``where`` names the server
    (``Redis at redis://...``, password hidden). ``request``: say that the request
    changed nothing (every write is one script or transaction: Redis refuses it whole)."""
    refusal = classify(exc)
    outcome = "; nothing was stored. " if request else ". "
    if refusal is _CONNECTION:
        return f"{where} is unavailable ({type(exc).__name__}){outcome}{refusal.action}"
    if refusal is _OTHER:
        said = _said(exc)
        return f"{where} refused the command ({said}){outcome}{refusal.action}"
    return f"{where} {refusal.reason} ({refusal.code}){outcome}{refusal.action}"
