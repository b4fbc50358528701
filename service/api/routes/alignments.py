"""/alignments: sentence alignment of two texts (copied, paraphrased, added, omitted).

Handlers are plain ``def``: the aligner is CPU work, so FastAPI runs it in
its thread pool instead of blocking the event loop.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import HTMLResponse
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from service.alignment_view import Meta, render, too_many
from service.api.deps import IndexDep, SettingsDep
from service.api.schemas import ERRORS, AlignmentOut, SentenceOut, SummaryOut, WordOpOut
from service.intake import check_unicode, normalise_id
from service.model import StoredArticle
from service.settings import Settings
from service.storage.index import Index
from shingling.align import Alignment, Sentence, TooManySentences, WordOp, align, params_for
from shingling.normalise import scrub_controls

router = APIRouter(prefix="/alignments", tags=["alignments"], responses=ERRORS)

#: A stored article's id in a path, NFKC-normalised as ids are on input.
#: Any string: an id that is not stored, whatever its characters, is a 404.
StoredId = Annotated[str, BeforeValidator(normalise_id), Path(description="A stored article's id.")]


class AlignIn(BaseModel):
    """Two texts to align; nothing is stored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "a": "Blinken said 10,000 North Korean soldiers are in Russia. "
                    "He expects them to fight soon.",
                    "b": "About 10,000 North Korean soldiers are in Russia, Blinken said. "
                    "Zelenskyy asked for help.",
                }
            ]
        },
    )

    # pattern: at least one character that is not a space (refused otherwise).
    a: str = Field(
        min_length=1,
        json_schema_extra={"pattern": r"\S"},
        description="The earlier/original text (plain text).",
    )
    b: str = Field(
        min_length=1,
        json_schema_extra={"pattern": r"\S"},
        description="The text to compare with it (plain text).",
    )

    @field_validator("a", "b")
    @classmethod
    def _not_blank(cls, value: str, info: ValidationInfo) -> str:
        name = info.field_name
        if not value.strip():
            raise ValueError(f"{name} is empty or only whitespace; send the text to align")
        check_unicode(value, name or "text")
        return scrub_controls(value)


def _op(op: WordOp) -> WordOpOut:
    return WordOpOut(op=op.op, start=op.start, end=op.end, text=op.text)


def _sentence(s: Sentence) -> SentenceOut:
    return SentenceOut(
        index=s.index,
        text=s.text,
        start=s.start,
        end=s.end,
        label=s.label,
        match=s.match,
        score=s.score,
        quote=s.quote,
        context=s.context,
        diff=[_op(op) for op in s.diff],
    )


def to_out(result: Alignment) -> AlignmentOut:
    """The response schema of an alignment."""
    return AlignmentOut(
        a=[_sentence(s) for s in result.a],
        b=[_sentence(s) for s in result.b],
        summary=SummaryOut(**asdict(result.summary)),
    )


def _stored(index: Index, a_id: str, b_id: str) -> tuple[StoredArticle, StoredArticle]:
    a, b = index.get(a_id), index.get(b_id)
    missing = [f"'{i}'" for i, art in ((a_id, a), (b_id, b)) if art is None]
    if missing or a is None or b is None:
        raise HTTPException(
            status_code=404,
            detail=f"no article with id {' or '.join(dict.fromkeys(missing))} in the index; "
            "index it first with POST /articles",
        )
    return a, b


def _meta(label: str, art: StoredArticle) -> Meta:
    return Meta(label, art.title or art.id, art.source, art.url, art.id)


def limited(settings: Settings, a_text: str, b_text: str) -> Alignment:
    """``align`` within ``COPYDESK_MAX_TEXT_CHARS`` (checked first, costs nothing)
    and ``COPYDESK_MAX_ALIGN_SENTENCES`` (checked once the texts are split, before
    any pair is scored): a text over either is a 413 saying what to do. The pair
    model is the one ``COPYDESK_SEMANTIC`` chooses."""
    for side, text in (("a", a_text), ("b", b_text)):
        if len(text) > settings.max_text_chars:
            raise HTTPException(
                status_code=413,
                detail=f"text {side} has {len(text):,} characters; the limit is "
                f"{settings.max_text_chars:,} (COPYDESK_MAX_TEXT_CHARS): send less, "
                "or raise the limit",
            )
    try:
        return align(
            a_text,
            b_text,
            params_for(settings.semantic),
            max_sentences=settings.max_align_sentences,
        )
    except TooManySentences as exc:
        raise HTTPException(status_code=413, detail=too_many(exc)) from None


@router.post("", summary="Align two texts (nothing is stored)")
def align_texts(body: AlignIn, settings: SettingsDep) -> AlignmentOut:
    return to_out(limited(settings, body.a, body.b))


@router.get("/{a_id}/{b_id}", summary="Align two stored articles")
def align_stored(
    a_id: StoredId, b_id: StoredId, index: IndexDep, settings: SettingsDep
) -> AlignmentOut:
    a, b = _stored(index, a_id, b_id)
    return to_out(limited(settings, a.text, b.text))


@router.get(
    "/{a_id}/{b_id}/view",
    summary="Side-by-side HTML page of the alignment of two stored articles",
    response_class=HTMLResponse,
)
def view_stored(
    a_id: StoredId, b_id: StoredId, index: IndexDep, settings: SettingsDep
) -> HTMLResponse:
    from service.pages import pair_info  # the editor UI's pages build on this router

    a, b = _stored(index, a_id, b_id)
    alignment = limited(settings, a.text, b.text)  # refuses what is over the limits first
    return HTMLResponse(
        render(
            alignment,
            _meta("A", a),
            _meta("B", b),
            pair=pair_info(index, a, b),
            links=True,
            semantic=settings.semantic,
        )
    )
