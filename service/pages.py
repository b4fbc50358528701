"""The editor's web UI: server-rendered pages of the same app (Jinja2, autoescaped).

Pages (none is in the OpenAPI schema; the JSON API is ``service/api/routes``):

- ``GET /``: check an article (paste text or HTML, optional metadata);
  ``POST /check`` answers its matches, and optionally adds it to the index.
- ``POST /check/side-by-side``: the pasted text against one stored match.
- ``GET /search?q=&offset=``: stored articles by id, title, source or date.
- ``GET /article/{id}``: an article's metadata, text, matches and family.
- ``GET /article/{a_id}/vs/{b_id}``: the side-by-side view with the pair's scores.
- ``GET /families``: the latest clustering job's families; ``POST /families/jobs``
  starts a job, ``GET /families/jobs/{job_id}`` follows it; ``GET /families/{id}``
  is one family's timeline of reprints.

Everything works without JavaScript (a job page refreshes itself with a
``<meta http-equiv=refresh>``). The pages inline ``service/static/ui.css`` and
are allowed by hash (``service.web``); their policy differs from the API's in
one point only: forms may post to this server (``form-action 'self'``).

Forms post ``application/x-www-form-urlencoded``, which the API's app-wide
"bodies are JSON" rule refuses; so the ``POST`` pages are plain Starlette
routes (``PageRoute``), outside FastAPI's dependencies, and refuse a request a
browser marks as sent from another site (``Sec-Fetch-Site``, ``Origin``). When
``COPYDESK_API_KEY`` is set, the forms that write (add to the index, start a
job) ask for it, as the API does.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BeforeValidator, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from service.alignment_view import Meta, PairInfo, environment, render, when
from service.api.deps import IndexDep, SettingsDep
from service.api.routes.clusters import get_runner, get_store
from service.intake import ArticleBody, Rejected, normalise_id, to_article
from service.jobs.store import ACTIVE, JobParams, JobStatus, JobStore
from service.model import EmptyText, Match, StoredArticle
from service.settings import Settings
from service.storage.index import Index
from service.storage.listing import list_articles
from service.storage.query import RewritePass
from service.web import inline, page_policy
from shingling.align import align, params_for
from shingling.passages import shared_passages
from shingling.pipeline import analyse
from shingling.score import compare

#: Articles a list page shows.
PAGE_SIZE = 25
#: Families a families page shows.
FAMILIES_PER_PAGE = 50
#: Members whose dates a family's origin reason reads, and whose text its
#: timeline compares with the origin's.
MEMBERS_READ = 200
#: Pair links a family page lists (every pair of its first members).
MAX_PAIRS = 300
#: Longest excerpt of a shared passage on the check page.
EXCERPT = 320

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

PageId = Annotated[str, BeforeValidator(normalise_id), Path()]


@cache
def ui_policy() -> str:
    """The policy of the UI pages: the API's (``page_policy``), with forms allowed to
    post to this server."""
    policy = page_policy()
    assert "form-action 'none'" in policy, policy
    return policy.replace("form-action 'none'", "form-action 'self'")


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(name).render(assets={"css": inline("ui.css")}, **context)
    return HTMLResponse(html, status_code=status, headers={"content-security-policy": ui_policy()})


# -- values the templates show -----------------------------------------------------------------
def _time_of(article: StoredArticle | None) -> str:
    if article is None:
        return ""
    return article.published_at or article.ingested_at


@dataclass(frozen=True)
class Excerpt:
    """A shared passage as the page quotes it (from the posted text's offsets)."""

    text: str
    words: int
    cut: bool


def excerpts(text: str, match: Match) -> list[Excerpt]:
    out = []
    for p in match.passages:
        piece = text[p.a_start : p.a_end]
        out.append(Excerpt(piece[:EXCERPT], p.words, len(piece) > EXCERPT))
    return out


def pair_info(index: Index, a: StoredArticle | str, b: StoredArticle | str) -> PairInfo:
    """Scores, verdict and shared passages of two texts, as the index computes them."""
    a_text = a if isinstance(a, str) else a.text
    b_text = b if isinstance(b, str) else b.text
    sa, sb = analyse(a_text, index.config).shingles, analyse(b_text, index.config).shingles
    scores = compare(sb, sa)  # query = B: containment = share of B found in A
    verdict = scores.verdict(index.thresholds)
    shared = shared_passages(a_text, b_text, index.config)
    return PairInfo(
        verdict=str(verdict) if verdict is not None else None,
        jaccard=scores.jaccard,
        b_in_a=scores.containment,
        a_in_b=scores.reverse_containment,
        a_share=shared.a_share,
        b_share=shared.b_share,
        passages=tuple((p.a_start, p.a_end, p.b_start, p.b_end) for p in shared.passages),
    )


def _meta(label: str, art: StoredArticle) -> Meta:
    return Meta(label, art.title or art.id, art.source, art.url, art.id, art.published_at)


def _unknown(article_id: str) -> HTTPException:
    return HTTPException(
        404, f"no article with id '{article_id}' in the index; find one under Articles"
    )


# -- families ------------------------------------------------------------------------------------
@dataclass
class Family:
    cluster_id: str
    origin: str
    members: list[str]
    origin_reason: str = ""


@dataclass
class Families:
    """The families of one finished job, and which family each article is in."""

    job: JobStatus
    #: Newest first: by the origin's publication (else indexing) time.
    families: list[Family]
    by_member: dict[str, int] = field(default_factory=dict)

    def of(self, article_id: str) -> Family | None:
        i = self.by_member.get(article_id)
        return None if i is None else self.families[i]


def latest_families(request: Request, index: Index, store: JobStore) -> Families | None:
    """The latest finished job's families, newest first (parsed, dated and ordered
    once per job and kept: a result never changes), or None when no job has finished."""
    job = next((j for j in store.recent() if j.status == "done"), None)
    if job is None:
        return None
    cached: Families | None = getattr(request.app.state, "ui_families", None)
    if cached is not None and cached.job.job_id == job.job_id:
        return cached
    raw = store.result(job.job_id)
    if raw is None:
        return None
    families = [
        Family(
            str(c["cluster_id"]),
            str(c["origin"]),
            [str(m) for m in c["members"]],
            str(c.get("origin_reason") or ""),
        )
        for c in json.loads(raw)["clusters"]
    ]
    times = _fields(index, [f.origin for f in families], ("published_at", "ingested_at"))

    def newest(f: Family) -> tuple[str, str]:
        t = times.get(f.origin, {})
        return t.get("published_at") or t.get("ingested_at", ""), f.cluster_id

    families.sort(key=newest, reverse=True)
    found = Families(job, families, {m: i for i, f in enumerate(families) for m in f.members})
    request.app.state.ui_families = found
    return found


def _fields(index: Index, ids: list[str], names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Some stored fields of each of ``ids`` (one pipeline of two rounds)."""
    pipe = index.client.pipeline(transaction=False)
    for i in ids:
        pipe.hget(index.keys.for_id(i).ids, i)
    numbers = pipe.execute()
    pipe = index.client.pipeline(transaction=False)
    live = [(i, n) for i, n in zip(ids, numbers, strict=True) if n is not None]
    for i, n in live:
        pipe.hmget(index.keys.for_id(i).doc(int(n)), list(names))
    out: dict[str, dict[str, str]] = {}
    for (i, _), values in zip(live, pipe.execute(), strict=True):
        out[i] = {
            k: v.decode("utf-8", "replace")
            for k, v in zip(names, values, strict=True)
            if v is not None
        }
    return out


def origin_reason(family: Family, meta: dict[str, dict[str, str]]) -> str:
    """Why the family's origin is its origin: the job's own reason when it gave one,
    else what the dates say (``shingling.families.pick_origin``'s rule)."""
    if family.origin_reason:
        return family.origin_reason
    dated = [m for m in family.members if meta.get(m, {}).get("published_at")]
    mine = meta.get(family.origin, {}).get("published_at")
    if mine and all(meta[m]["published_at"] >= mine for m in dated):
        return f"published first ({when(mine)})"
    if not dated:
        return "no publication dates: the text the others contain most"
    return "chosen by the clustering job"


@dataclass(frozen=True)
class FamilyRow:
    family: Family
    origin: dict[str, str | None]  # title, source, published_at, ingested_at
    reason: str


def family_rows(index: Index, families: list[Family]) -> list[FamilyRow]:
    """What the pages show of each family: its origin's metadata and the reason
    (the members' dates are read only for a family the job gave no reason for)."""
    names = ("title", "source", "published_at", "ingested_at")
    ids = [f.origin for f in families]
    ids += [m for f in families if not f.origin_reason for m in f.members[:MEMBERS_READ]]
    meta = _fields(index, list(dict.fromkeys(ids)), names)
    return [
        FamilyRow(f, {n: meta.get(f.origin, {}).get(n) for n in names}, origin_reason(f, meta))
        for f in families
    ]


@dataclass(frozen=True)
class Reprint:
    article: StoredArticle
    is_origin: bool
    took: float | None  # share of the origin's words this reprint carries
    own: float | None  # share of this reprint's words that came from the origin


def timeline(index: Index, family: Family) -> list[Reprint]:
    """The family's members in publication order, each with the share of the
    origin it ran (shared passages against the origin's text)."""
    arts = [index.get(m) for m in family.members[:MEMBERS_READ]]
    stored = [a for a in arts if a is not None]
    origin = next((a for a in stored if a.id == family.origin), None)
    if origin is None:
        origin = index.get(family.origin)
        if origin is not None:
            stored.append(origin)
    out = []
    for art in sorted(stored, key=lambda a: (_time_of(a), a.id)):
        if origin is None or art.id == origin.id:
            out.append(Reprint(art, origin is not None, None, None))
            continue
        shared = shared_passages(origin.text, art.text, index.config)
        out.append(Reprint(art, False, shared.a_share, shared.b_share))
    return out


# -- forms ---------------------------------------------------------------------------------------
async def _form(request: Request, max_fields: int = 20) -> dict[str, str]:
    """An url-encoded form body (the last value of each field)."""
    body = (await request.body()).decode("utf-8", "replace")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and media != "application/x-www-form-urlencoded":
        raise HTTPException(
            415, f"this page takes an HTML form (application/x-www-form-urlencoded), not {media}"
        )
    try:
        parsed = parse_qs(body, keep_blank_values=True, max_num_fields=max_fields)
    except ValueError:
        raise HTTPException(400, f"the form has more than {max_fields} fields") from None
    return {k: v[-1] for k, v in parsed.items()}


def _same_site(request: Request) -> None:
    """Refuse a form a browser says another site sent (cross-site request forgery):
    by ``Sec-Fetch-Site``, else by ``Origin`` against the request's own host.

    ``Origin: null`` passes: under these pages' ``Referrer-Policy: no-referrer`` a
    browser sends it on its own same-origin posts. So a browser that sends no
    ``Sec-Fetch-Site`` (older than 2020-2023, by vendor) is not protected here; a
    server that must be writes-protected sets ``COPYDESK_API_KEY``, which the
    writing forms then ask for.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise HTTPException(403, "this form must be sent from copydesk's own pages")
    origin = request.headers.get("origin")
    if site is None and origin not in (None, "null"):
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise HTTPException(403, "this form must be sent from copydesk's own pages")


def _key_ok(settings: Settings, given: str) -> bool:
    if settings.api_key is None:
        return True
    expected = settings.api_key.get_secret_value().encode()
    return secrets.compare_digest(given.encode("utf-8"), expected)


def _state(request: Request) -> tuple[Index, Settings]:
    return request.app.state.index, request.app.state.settings


class PageRoute(Route):
    """A ``POST`` page: its errors are HTML pages (the app's handlers answer in
    HTML on a route whose ``response_class`` is ``HTMLResponse``)."""

    response_class = HTMLResponse

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # FastAPI's router records only its own routes in the scope; the app's
        # error handlers and metrics read the route from there.
        scope["route"] = self
        await super().handle(scope, receive, send)


# -- check ---------------------------------------------------------------------------------------
_CHECK_FIELDS = ("text", "html", "title", "source", "url", "published_at")


def _home(settings: Settings, status: int = 200, error: str | None = None, **form: str) -> Response:
    values = {k: form.get(k, "") for k in (*_CHECK_FIELDS, "kind", "id", "add", "rewritten")}
    return _page(
        "home.html",
        status,
        form=values,
        error=error,
        needs_key=settings.api_key is not None,
        rewrite_pairs=settings.rewrite_pairs,
    )


@router.get("/")
def home(settings: SettingsDep) -> Response:
    return _home(settings)


def _article_body(form: dict[str, str]) -> ArticleBody:
    body = form.get("body", "")
    kind = form.get("kind", "text")
    fields: dict[str, Any] = {"html" if kind == "html" else "text": body or None}
    for name in ("id", "title", "source", "url"):
        if form.get(name, "").strip():
            fields[name] = form[name].strip()
    if form.get("published_at", "").strip():
        date = form["published_at"].strip()
        fields["published_at"] = date if "T" in date else f"{date}T00:00:00Z"
    return ArticleBody(**fields)


def _errors(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


async def check(request: Request) -> Response:
    _same_site(request)
    form = await _form(request)
    index, settings = _state(request)
    keep = {
        **{k: form.get(k, "") for k in ("title", "source", "url", "published_at", "id")},
        "text": form.get("body", ""),
        "kind": form.get("kind", "text"),
        "add": form.get("add", ""),
        "rewritten": form.get("rewritten", ""),
    }
    try:
        body = _article_body(form)
        # Extracting an article from HTML is CPU work: not on the event loop.
        article = await run_in_threadpool(to_article, body, max_text_chars=settings.max_text_chars)
    except ValidationError as exc:
        return _home(settings, 422, _errors(exc), **keep)
    except Rejected as exc:
        return _home(settings, exc.status, str(exc), **keep)
    add = form.get("add") == "on"
    if add and not _key_ok(settings, form.get("api_key", "")):
        return _home(
            settings,
            401,
            "the API key is missing or wrong: this server needs it to add an article to the index",
            **keep,
        )
    limit = settings.max_results
    rewrites = RewritePass.asked(settings, form.get("rewritten") == "on")
    try:
        if add:
            result = await run_in_threadpool(index.put, article, limit=limit, rewrites=rewrites)
            added, matches = (result.id, result.status), result.matches
        else:
            matches = await run_in_threadpool(
                index.match_text, article.text, limit=limit, rewrites=rewrites
            )
            added = None
    except EmptyText:
        return _home(
            settings,
            422,
            "the text has no words once page chrome is removed; paste the article body",
            **keep,
        )
    rows = [(m, excerpts(article.text, m)) for m in matches]
    return _page(
        "check.html",
        article=article,
        matches=rows,
        added=added,
        words=len(article.text.split()),
        rewritten=rewrites is not None,
    )


async def check_side_by_side(request: Request) -> Response:
    """The pasted text (B) against one stored match (A): nothing is stored."""
    _same_site(request)
    form = await _form(request)
    index, settings = _state(request)
    match_id = normalise_id(form.get("match", ""))
    text = form.get("text", "")
    if not text.strip():
        raise HTTPException(422, "no text to compare: paste it on the Check page")
    stored = await run_in_threadpool(index.get, str(match_id))
    if stored is None:
        raise _unknown(str(match_id))

    def work() -> str:
        b = Meta("B", form.get("title") or "the checked text", form.get("source") or None)
        return render(
            align(stored.text, text, params_for(settings.semantic)),
            _meta("A", stored),
            b,
            pair=pair_info(index, stored, text),
            links=True,
            semantic=settings.semantic,
        )

    return HTMLResponse(
        await run_in_threadpool(work), headers={"content-security-policy": ui_policy()}
    )


# -- articles ------------------------------------------------------------------------------------
@router.get("/search")
def search(
    index: IndexDep,
    q: str = Query(default="", max_length=200),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> Response:
    page = list_articles(index.client, index.keys, q, offset=offset, limit=PAGE_SIZE)
    prev = max(0, offset - PAGE_SIZE) if offset else None
    return _page("search.html", q=q, page=page, prev=prev, quote=quote)


def _ordered(a: StoredArticle, b_id: str, b_time: str | None) -> tuple[str, str]:
    """(A, B) ids of a pair: the earlier one is A (the original)."""
    if b_time and _time_of(a) > b_time:
        return b_id, a.id
    return a.id, b_id


@router.get("/article/{article_id}")
def article_page(
    request: Request, index: IndexDep, settings: SettingsDep, article_id: PageId
) -> Response:
    art = index.get(article_id)
    if art is None:
        raise _unknown(article_id)
    matches = index.matches_of(article_id, limit=settings.max_results) or []
    store = get_store(request, index)
    fams = latest_families(request, index, store)
    family = fams.of(article_id) if fams else None
    family_row = family_rows(index, [family])[0] if family else None
    paragraphs = [p.strip() for p in art.text.split("\n\n") if p.strip()]
    links = [(m, _ordered(art, m.id, m.published_at)) for m in matches]
    return _page(
        "article.html",
        art=art,
        paragraphs=paragraphs,
        matches=links,
        family=family_row,
        families_job=fams.job if fams else None,
    )


@router.get("/article/{a_id}/vs/{b_id}")
def side_by_side(index: IndexDep, settings: SettingsDep, a_id: PageId, b_id: PageId) -> Response:
    a, b = index.get(a_id), index.get(b_id)
    missing = [f"'{i}'" for i, art in ((a_id, a), (b_id, b)) if art is None]
    if missing or a is None or b is None:
        raise HTTPException(
            404,
            f"no article with id {' or '.join(dict.fromkeys(missing))} "
            "in the index; find one under Articles",
        )
    html = render(
        align(a.text, b.text, params_for(settings.semantic)),
        _meta("A", a),
        _meta("B", b),
        pair=pair_info(index, a, b),
        links=True,
        semantic=settings.semantic,
    )
    return HTMLResponse(html, headers={"content-security-policy": ui_policy()})


# -- families ------------------------------------------------------------------------------------
@router.get("/families")
def families_page(
    request: Request,
    index: IndexDep,
    settings: SettingsDep,
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> Response:
    store = get_store(request, index)
    fams = latest_families(request, index, store)
    jobs = store.recent(5)
    active = next((j for j in jobs if j.status in ACTIVE), None)
    rows: list[FamilyRow] = []
    total = 0
    if fams is not None:
        rows = family_rows(index, fams.families[offset : offset + FAMILIES_PER_PAGE])
        total = len(fams.families)
    nxt = offset + FAMILIES_PER_PAGE if offset + FAMILIES_PER_PAGE < total else None
    prev = max(0, offset - FAMILIES_PER_PAGE) if offset else None
    return _page(
        "families.html",
        fams=fams,
        rows=rows,
        total=total,
        offset=offset,
        next=nxt,
        prev=prev,
        jobs=jobs,
        active=active,
        needs_key=settings.api_key is not None,
    )


async def start_job(request: Request) -> Response:
    _same_site(request)
    form = await _form(request)
    index, settings = _state(request)
    if not _key_ok(settings, form.get("api_key", "")):
        raise HTTPException(
            401, "the API key is missing or wrong: this server needs it to start a clustering job"
        )

    def work() -> str:
        index.check_config()
        # The form's one option; the pair model is the server's, as for the API's jobs.
        params = JobParams(rewritten=form.get("rewritten") == "1", semantic=settings.semantic)
        job, created = get_store(request, index).create_unless_active(params)
        if created:  # else the active job: its page follows it
            get_runner(request, index).start(job.job_id)
        return job.job_id

    job_id = await run_in_threadpool(work)
    return RedirectResponse(f"/families/jobs/{quote(job_id)}", status_code=303)


@router.get("/families/jobs/{job_id}")
def job_page(request: Request, index: IndexDep, job_id: str = Path(max_length=64)) -> Response:
    job = get_store(request, index).get(job_id)
    if job is None:
        raise HTTPException(
            404,
            f"no clustering job '{job_id}' (unknown, or expired after "
            "7 days): start one on the Families page",
        )
    return _page("job.html", job=job, active=job.status in ACTIVE)


@router.get("/families/{cluster_id}")
def family_page(
    request: Request, index: IndexDep, cluster_id: str = Path(max_length=64)
) -> Response:
    store = get_store(request, index)
    fams = latest_families(request, index, store)
    family = next((f for f in fams.families if f.cluster_id == cluster_id), None) if fams else None
    if fams is None or family is None:
        raise HTTPException(
            404, f"no family '{cluster_id}' in the latest clustering job; see Families"
        )
    row = family_rows(index, [family])[0]
    reprints = timeline(index, family)
    ids = [r.article.id for r in reprints]
    pairs = [(ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, len(ids))]
    return _page(
        "family.html",
        job=fams.job,
        row=row,
        reprints=reprints,
        pairs=pairs[:MAX_PAIRS],
        more_pairs=max(0, len(pairs) - MAX_PAIRS),
        unread=max(0, len(family.members) - MEMBERS_READ),
    )


def install(app: FastAPI) -> None:
    """Add the UI's pages to ``app`` (the ``POST`` pages outside FastAPI's dependencies)."""
    app.include_router(router)
    app.router.routes.append(PageRoute("/check", check, methods=["POST"], name="check"))
    app.router.routes.append(
        PageRoute("/check/side-by-side", check_side_by_side, methods=["POST"], name="check_pair")
    )
    app.router.routes.append(
        PageRoute("/families/jobs", start_job, methods=["POST"], name="start_job")
    )


__all__ = ["install", "ui_policy"]
