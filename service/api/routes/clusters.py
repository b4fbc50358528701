"""/clusters/jobs: start a batch clustering job, follow it, download its result.

The work runs in a child process (``service.jobs.batch.JobRunner``), never
in the request: POST returns 202 at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.api.deps import ApiKey, IndexDep, SettingsDep
from service.api.schemas import ERRORS, ClustersOut, JobCreated, JobOut
from service.intake import timestamp_string
from service.jobs.batch import JobRunner
from service.jobs.store import JobParams, JobStatus, JobStore
from service.storage.index import Index
from shingling.families import ClusterParams

router = APIRouter(prefix="/clusters", tags=["clusters"], responses=ERRORS)


class JobIn(BaseModel):
    """Optional body of ``POST /clusters/jobs``: a time window and thresholds.

    Numbers are strict (``false`` is not 0, ``"3"`` is not 3, but ``7.0`` is the integer 7
    as JSON Schema has it) and times are ISO 8601 strings, as the schema says. An
    unknown field is refused, so a misspelt window or threshold (``"window"``,
    ``"from"``) cannot silently start a job over the whole index.
    """

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = Field(
        default=None, description="Only articles published (else ingested) at or after this."
    )
    until: datetime | None = Field(default=None, description="... and at or before this.")
    verify: Literal["auto", "exact", "estimate"] = Field(
        default="auto",
        description="exact: re-shingle stored texts (as the online path); estimate: from "
        "signatures only (fast, approximate); auto: exact up to 20,000 articles.",
    )
    duplicate_jaccard: float | None = Field(default=None, gt=0, le=1, strict=True)
    syndicated_containment: float | None = Field(default=None, gt=0, le=1, strict=True)
    syndicated_narrative: int | None = Field(default=None, ge=1, strict=True)
    max_bucket: int = Field(
        default=ClusterParams.max_bucket,
        strict=True,
        ge=2,
        le=10_000,
        description="LSH buckets larger than this are paired in a sliding window.",
    )
    slot_bands: int = Field(
        default=ClusterParams.slot_bands,
        strict=True,
        ge=0,
        le=1024,
        description="Extra one-row bands (signature slots): finds short texts reused inside "
        "long ones (low Jaccard, high containment) at the cost of more candidates.",
    )
    rewritten: bool = Field(
        default=False,
        strict=True,
        description="Also link candidate pairs that share some running text (3+ word "
        "5-shingles) but too little to be syndicated when the sentence aligner finds the "
        "shorter one a rewritten copy: at least 30 % of its sentences copied or paraphrased. Uses "
        "the server's pair model (COPYDESK_SEMANTIC); needs exact verification "
        "(docs/clustering.md, 'Rewritten copies').",
    )

    @field_validator("since", "until", mode="before")
    @classmethod
    def _timestamp_string(cls, v: object) -> object:
        return timestamp_string(v)

    @field_validator("syndicated_narrative", "max_bucket", "slot_bands", mode="before")
    @classmethod
    def _integral(cls, v: object) -> object:
        # JSON Schema's integer is any number without a fraction: 7682.0 is 7682.
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v

    @model_validator(mode="after")
    def _window(self) -> JobIn:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        if self.rewritten and self.verify == "estimate":
            raise ValueError("rewritten links need verify 'exact' or 'auto', not 'estimate'")
        return self

    def params(self) -> JobParams:
        names = ("duplicate_jaccard", "syndicated_containment", "syndicated_narrative")
        overrides = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        return JobParams(
            verify=self.verify,
            since=_epoch(self.since),
            until=_epoch(self.until),
            thresholds=overrides,
            max_bucket=self.max_bucket,
            slot_bands=self.slot_bands,
            rewritten=self.rewritten,
        )


def _epoch(dt: datetime | None) -> float | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def _dt(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def get_store(request: Request, index: IndexDep) -> JobStore:
    store = JobStore(index.client, index.keys)
    state = request.app.state
    if not getattr(state, "cluster_jobs_swept", False):
        # First use since start-up: jobs a previous process left running are failed now.
        store.sweep()
        state.cluster_jobs_swept = True
    return store


def get_runner(request: Request, index: IndexDep) -> JobRunner:
    state = request.app.state
    runner: JobRunner | None = getattr(state, "cluster_runner", None)
    if runner is None or runner.client is not index.client:
        runner = JobRunner(
            index.client,
            index.keys,
            index.config,
            index.thresholds,
            wire_sources=state.settings.wire_source_names(),  # the app's settings, as passed in
        )
        state.cluster_runner = runner
    return runner


StoreDep = Annotated[JobStore, Depends(get_store)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


def _out(job: JobStatus) -> JobOut:
    return JobOut(
        job_id=job.job_id,
        status=job.status,
        progress=job.progress,
        error=job.error,
        summary=job.summary,
        params=job.params,
        created_at=_dt(job.created_at) or datetime.now(UTC),
        started_at=_dt(job.started_at),
        finished_at=_dt(job.finished_at),
    )


def _job(store: JobStore, job_id: str) -> JobStatus:
    job = store.get(job_id)
    if job is None:
        raise HTTPException(
            404,
            f"no clustering job '{job_id}' (unknown, or expired after 7 days): "
            "start one with POST /clusters/jobs",
        )
    return job


@router.post(
    "/jobs",
    status_code=202,
    response_model=JobCreated,
    dependencies=[ApiKey],
    summary="Start clustering the whole index (runs in the background)",
    responses={409: {"description": "A clustering job of this index is already queued or running"}},
)
def start_job(
    store: StoreDep,
    runner: RunnerDep,
    index: IndexDep,
    settings: SettingsDep,
    body: Annotated[JobIn | None, Body()] = None,
) -> JobCreated:
    _ready(index)
    params = replace((body or JobIn()).params(), semantic=settings.semantic)
    job, created = store.create_unless_active(params)
    if not created:
        raise HTTPException(
            409,
            f"clustering job '{job.job_id}' is {job.status}; follow it at "
            f"GET /clusters/jobs/{job.job_id} and start another when it has finished",
        )
    runner.start(job.job_id)
    return JobCreated(job_id=job.job_id)


def _ready(index: Index) -> None:
    index.check_config()  # ConfigMismatch -> 503 by the app's handler


@router.get("/jobs", response_model=list[JobOut], summary="Recent clustering jobs, newest first")
def list_jobs(store: StoreDep) -> list[JobOut]:
    return [_out(j) for j in store.recent()]


@router.get("/jobs/{job_id}", response_model=JobOut, summary="Status and progress of a job")
def get_job(job_id: str, store: StoreDep) -> JobOut:
    return _out(_job(store, job_id))


@router.get(
    "/jobs/{job_id}/result",
    summary="Clusters found by a finished job",
    responses={
        200: {
            "model": ClustersOut,
            "description": "Every article with a syndicated or "
            "duplicate partner, in exactly one cluster; singletons left out",
        },
        409: {"description": "The job has not finished, or it failed"},
    },
)
def get_result(job_id: str, store: StoreDep) -> Response:
    job = _job(store, job_id)
    if job.status != "done":
        why = (
            f"failed: {job.error}"
            if job.status == "failed"
            else (f"{job.status} ({job.progress:.0%}); poll GET /clusters/jobs/{job_id} until done")
        )
        raise HTTPException(409, f"job '{job_id}' has no result: it {why}")
    raw = store.result(job_id)
    if raw is None:
        raise HTTPException(404, f"the result of job '{job_id}' has expired; start a new job")
    # Stored as the JSON the client gets: no re-encoding of a large result.
    return Response(raw, media_type="application/json")
