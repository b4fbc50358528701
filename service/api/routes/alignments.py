"""/alignments: sentence alignment of two texts (copied, paraphrased, added, omitted).

Handlers are plain ``def``: the aligner is CPU work, so FastAPI runs it in
its thread pool instead of blocking the event loop.
"""

from __future__ import annotations

from typing import Annotated, Literal

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

from service.alignment_view import Meta, render
from service.api.deps import IndexDep
from service.api.schemas import ERRORS, check_unicode, normalise_id
from service.index import Index, StoredArticle
from shingling.align import Alignment, Sentence, WordOp, align
from shingling.normalise import scrub_controls

router = APIRouter(prefix="/alignments", tags=["alignments"], responses=ERRORS)

#: A stored article's id in a path, NFKC-normalised as ids are on input.
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

    a: str = Field(min_length=1, description="The earlier/original text (plain text).")
    b: str = Field(min_length=1, description="The text to compare with it (plain text).")

    @field_validator("a", "b")
    @classmethod
    def _not_blank(cls, value: str, info: ValidationInfo) -> str:
        name = info.field_name
        if not value.strip():
            raise ValueError(f"{name} is empty or only whitespace; send the text to align")
        check_unicode(value, name or "text")
        return scrub_controls(value)


class WordOpOut(BaseModel):
    op: Literal["equal", "replace", "delete", "insert"] = Field(
        description="equal: also in the counterpart; replace: changed words; "
        "delete: only in a; insert: only in b."
    )
    start: int = Field(description="Character offset into this side's text.")
    end: int
    text: str


class SentenceOut(BaseModel):
    index: int
    text: str
    start: int = Field(description="Character offset into this side's text.")
    end: int
    label: Literal["copied", "paraphrased", "added", "omitted"]
    match: int | None = Field(
        description="Index of the counterpart in the other text (for a split or merged "
        "sentence, the main partner), or null."
    )
    score: float = Field(
        description="Matched: probability that both say the same thing (containment for the "
        "extra part of a split/merged sentence). Unmatched: the best probability found."
    )
    quote: bool = Field(
        default=False, description="The shared words are mostly inside direct quotation marks."
    )
    diff: list[WordOpOut] = Field(
        default_factory=list, description="Word-level differences with the counterpart."
    )


class SummaryOut(BaseModel):
    copied: int = Field(description="Sentences of b labelled copied.")
    paraphrased: int = Field(description="Sentences of b labelled paraphrased.")
    added: int = Field(description="Sentences of b with no counterpart in a.")
    omitted: int = Field(description="Sentences of a with no counterpart in b.")


class AlignmentOut(BaseModel):
    a: list[SentenceOut]
    b: list[SentenceOut]
    summary: SummaryOut


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
        diff=[_op(op) for op in s.diff],
    )


def to_out(result: Alignment) -> AlignmentOut:
    """The response schema of an alignment."""
    sm = result.summary
    return AlignmentOut(
        a=[_sentence(s) for s in result.a],
        b=[_sentence(s) for s in result.b],
        summary=SummaryOut(
            copied=sm.copied, paraphrased=sm.paraphrased, added=sm.added, omitted=sm.omitted
        ),
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


@router.post("", summary="Align two texts (nothing is stored)")
def align_texts(body: AlignIn) -> AlignmentOut:
    return to_out(align(body.a, body.b))


@router.get("/{a_id}/{b_id}", summary="Align two stored articles")
def align_stored(a_id: StoredId, b_id: StoredId, index: IndexDep) -> AlignmentOut:
    a, b = _stored(index, a_id, b_id)
    return to_out(align(a.text, b.text))


@router.get(
    "/{a_id}/{b_id}/view",
    summary="Side-by-side HTML page of the alignment of two stored articles",
    response_class=HTMLResponse,
)
def view_stored(a_id: StoredId, b_id: StoredId, index: IndexDep) -> HTMLResponse:
    a, b = _stored(index, a_id, b_id)
    return HTMLResponse(render(align(a.text, b.text), _meta("A", a), _meta("B", b)))
