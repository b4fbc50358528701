"""/articles: index, match, list, read and delete articles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BeforeValidator

from service import intake
from service.api.deps import ApiKey, IndexDep, JsonBody, SettingsDep
from service.api.schemas import (
    ERRORS,
    ArticleOut,
    ArticlesOut,
    ArticleSummaryOut,
    MatchesOut,
    MatchOut,
    PostArticleOut,
)
from service.intake import ID_PATTERN, ArticleBody, Rejected, normalise_id
from service.model import ArticleIn, EmptyText, Match
from service.settings import Settings
from service.storage.listing import list_articles
from service.storage.query import RewritePass

router = APIRouter(prefix="/articles", tags=["articles"], responses=ERRORS)

#: An article id in a path: NFKC-normalised (as in bodies), then checked.
#: ``Path`` comes first: after a validator, FastAPI leaves its pattern out of the schema.
ArticleId = Annotated[
    str,
    Path(pattern=ID_PATTERN, description="The article's id (taken in Unicode NFKC form)."),
    BeforeValidator(normalise_id),
]


def _limit(settings: Settings, limit: int | None) -> int:
    return min(limit or 20, settings.max_results)


#: ``?rewritten=true``: the sentence aligner judges the first few matches.
Rewritten = Annotated[
    bool,
    Query(
        description="Also have the sentence aligner judge the first COPYDESK_REWRITE_PAIRS "
        "candidates (those the shingles leave below syndicated first): each gets rewrite, "
        "and a reworded copy the shingles miss comes back syndicated. ~0.1-0.2 s a pair."
    ),
]


def to_article(body: ArticleBody, settings: Settings) -> ArticleIn:
    try:
        return intake.to_article(body, max_text_chars=settings.max_text_chars)
    except Rejected as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _out(matches: list[Match]) -> list[MatchOut]:
    # From the dataclass's attributes: dataclasses.asdict deep-copies each
    # field first, ~7x the time of the validation itself.
    return [MatchOut.model_validate(m, from_attributes=True) for m in matches]


_EMPTY = (
    "text has no words once page chrome (ads, navigation, teaser lists) is removed; "
    "send the article body"
)


@router.post(
    "",
    status_code=201,
    response_model=PostArticleOut,
    dependencies=[ApiKey, JsonBody],
    summary="Index an article and return its matches",
    responses={200: {"model": PostArticleOut, "description": "Same id: unchanged or replaced"}},
)
def post_article(
    body: ArticleBody,
    index: IndexDep,
    settings: SettingsDep,
    response: Response,
    limit: int | None = Query(default=None, ge=1, le=1000),
    rewritten: Rewritten = False,
) -> PostArticleOut:
    article = to_article(body, settings)
    try:
        result = index.put(
            article, limit=_limit(settings, limit), rewrites=RewritePass.asked(settings, rewritten)
        )
    except EmptyText:
        raise HTTPException(422, _EMPTY) from None
    if result.status != "created":
        response.status_code = 200
    return PostArticleOut(id=result.id, status=result.status, matches=_out(result.matches))


@router.get(
    "",
    response_model=ArticlesOut,
    summary="List stored articles, newest first, or search them by id, title, source or date",
)
def get_articles(
    index: IndexDep,
    settings: SettingsDep,
    q: str = Query(
        default="",
        max_length=200,
        description="Empty: every article. YYYY-MM-DD: that UTC day's articles. Else: "
        "articles whose id, title or source contain it (case-insensitive), an exact id first.",
    ),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    limit: int | None = Query(default=None, ge=1, le=1000),
) -> ArticlesOut:
    page = list_articles(index.client, index.keys, q, offset=offset, limit=_limit(settings, limit))
    return ArticlesOut(
        articles=[ArticleSummaryOut.model_validate(a, from_attributes=True) for a in page.articles],
        offset=page.offset,
        limit=page.limit,
        total=page.total,
        next_offset=page.next_offset,
        complete=page.complete,
    )


@router.post(
    "/match",
    response_model=MatchesOut,
    dependencies=[JsonBody],
    summary="Find matches without storing anything",
)
def match_article(
    body: ArticleBody,
    index: IndexDep,
    settings: SettingsDep,
    limit: int | None = Query(default=None, ge=1, le=1000),
    rewritten: Rewritten = False,
) -> MatchesOut:
    article = to_article(body, settings)
    try:
        matches = index.match_text(
            article.text,
            limit=_limit(settings, limit),
            rewrites=RewritePass.asked(settings, rewritten),
        )
    except EmptyText:
        raise HTTPException(422, _EMPTY) from None
    return MatchesOut(matches=_out(matches))


def _unknown(article_id: str) -> HTTPException:
    return HTTPException(404, f"no article with id '{article_id}'; POST /articles to index it")


@router.get("/{article_id}", response_model=ArticleOut, summary="A stored article")
def get_article(index: IndexDep, article_id: ArticleId) -> ArticleOut:
    stored = index.get(article_id)
    if stored is None:
        raise _unknown(article_id)
    return ArticleOut.model_validate(stored, from_attributes=True)


@router.get(
    "/{article_id}/matches",
    response_model=MatchesOut,
    summary="Matches of a stored article against the rest of the index",
)
def get_matches(
    index: IndexDep,
    settings: SettingsDep,
    article_id: ArticleId,
    limit: int | None = Query(default=None, ge=1, le=1000),
    rewritten: Rewritten = False,
) -> MatchesOut:
    matches = index.matches_of(
        article_id, limit=_limit(settings, limit), rewrites=RewritePass.asked(settings, rewritten)
    )
    if matches is None:
        raise _unknown(article_id)
    return MatchesOut(matches=_out(matches))


@router.delete(
    "/{article_id}",
    status_code=204,
    dependencies=[ApiKey],
    summary="Remove an article from the index and the store",
)
def delete_article(index: IndexDep, article_id: ArticleId) -> Response:
    if not index.delete(article_id):
        raise _unknown(article_id)
    return Response(status_code=204)
