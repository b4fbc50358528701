"""The rooms of docs/architecture.md and what each may import.

Every import statement of every module under ``shingling/`` and ``service/``
is read with ``ast`` (module level and inside functions alike: an import
deferred into a function is still a dependency). A rule broken here names
the module and the import, so the fix is to move the code to the room it
belongs in, not to hide the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Room -> rooms (and third-party packages) its modules must not import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # The pure text library: no state, no I/O, no web.
    "shingling": ("service", "bench", "redis", "fastapi", "starlette", "pydantic", "jinja2"),
    # Domain types and limits: read by every room, so they read none.
    "service.model": ("service", "redis", "fastapi", "starlette"),
    "service.defaults": ("service", "redis", "fastapi", "starlette"),
    "service.settings": ("service", "redis", "fastapi", "starlette"),
    # Intake turns a body into an article: no Redis, no HTTP layer.
    "service.intake": ("service.api", "service.cli", "service.storage", "redis", "fastapi"),
    "service.corpus": ("service.api", "service.cli", "service.storage", "redis", "fastapi"),
    # Storage knows Redis and nothing of the layers above it.
    "service.storage": (
        "service.api",
        "service.cli",
        "service.jobs",
        "service.pages",
        "service.evaluation",
        "fastapi",
        "starlette",
        "bench",
    ),
    # Jobs run on storage; the API and the CLI start them, not the other way round.
    "service.jobs": ("service.api", "service.cli", "service.pages", "fastapi", "starlette"),
    # The API does not reach into the command line.
    "service.api": ("service.cli", "bench"),
}

#: Modules of the rooms above that the rule lets through, with the reason.
ALLOWED: dict[tuple[str, str], str] = {
    ("service.settings", "service.defaults"): "a setting's default is a shared limit",
}


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("service", "shingling"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Absolute names ``path`` imports; ``from pkg import sub`` counts as ``pkg.sub``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names}
            known = subs & MODULES.keys()
            out.update(known)
            if len(known) < len(subs):
                out.add(node.module)
    return out


def _within(name: str, room: str) -> bool:
    return name == room or name.startswith(room + ".")


def _room_of(module: str) -> str | None:
    rooms = [room for room in FORBIDDEN if _within(module, room)]
    return max(rooms, key=len) if rooms else None


def test_every_room_exists() -> None:
    for room in FORBIDDEN:
        assert any(_within(m, room) for m in MODULES), f"{room} names no module"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_what_its_room_may(module: str) -> None:
    room = _room_of(module)
    if room is None:
        return
    broken = []
    for name in sorted(_imports(MODULES[module])):
        for bad in FORBIDDEN[room]:
            allowed = any(_within(name, ok) for (r, ok) in ALLOWED if r == room)
            if _within(name, bad) and not _within(name, room) and not allowed:
                broken.append(f"{module} imports {name} (room {room} may not import {bad})")
    assert not broken, "\n".join(broken)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle() -> None:
    graph = {m: {n for n in _imports(p) if n in MODULES and n != m} for m, p in MODULES.items()}
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: Longest function (lines from ``def`` to its last line, docstring included)
#: outside bench: a longer one is several stages, and each gets a name.
MAX_FUNCTION_LINES = 60


def _long_functions(source: str, limit: int) -> list[tuple[str, int]]:
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > limit
    ]


def test_no_function_is_longer_than_the_limit() -> None:
    long = {
        m: found
        for m, p in MODULES.items()
        if (found := _long_functions(p.read_text(encoding="utf-8"), MAX_FUNCTION_LINES))
    }
    assert long == {}, f"split these into named stages: {long}"


def test_the_length_check_sees_a_long_function() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert _long_functions(f"def f():\n{body}", MAX_FUNCTION_LINES) == [
        ("f", MAX_FUNCTION_LINES + 1)
    ]
