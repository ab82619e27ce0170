"""CSV import and export of records, and the status of background jobs.

``POST /records/<type>/import`` takes the file as a multipart field ``file`` or as a
``text/csv`` body and answers 202 with the job's id; ``GET /jobs/<id>`` tells its state,
progress and, once it ended, the per-row report (``/jobs/<id>/report.csv`` has all of it).
A job is visible only in the tenant that queued it: any other tenant gets 404, as for a
job that does not exist. ``GET /records/<type>/export.csv`` streams the records the list
API would list, with the same filters, search and sort.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, current_app, request, stream_with_context, url_for
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from twofold.api import bp
from twofold.api.records import LIST_PARAMS
from twofold.auth.permissions import require
from twofold.db import db
from twofold.entities import csv_io
from twofold.exceptions import NotFound
from twofold.jobs import job_call, run_job
from twofold.redis_conn import get_redis
from twofold.tenancy.scope import current_tenant_id
from twofold.validation import ValidationError

CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}
IMPORT_FUNC = f"{csv_io.run_import.__module__}:{csv_io.run_import.__qualname__}"


@bp.post("/records/<type_name>/import")
def import_records(type_name: str) -> Any:
    require("records.import")  # the service checks too; this refuses before the upload is read
    # Larger than a form post may be; the file streams to disk, never into memory.
    request.max_content_length = current_app.config.get("IMPORT_MAX_BYTES", 512 * 1024 * 1024)
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    if upload is not None:
        source = upload.stream
    elif request.mimetype in CSV_TYPES:
        source = request.stream
    else:
        raise ValidationError({"file": ["Send the CSV as a multipart field 'file' or as a text/csv body."]})
    started = csv_io.start_import(type_name, source, on_duplicate=request.args.get("on_duplicate", "skip"))
    db.session.commit()  # the job is handed to Redis once this commits
    location = url_for("api.job_status", job_id=started.job_id)
    body = {
        "job_id": started.job_id, "status_url": location, "total": started.total, **started.plan.as_dict(),
    }
    return body, 202, {"Location": location}


def _tenant_job(job_id: str) -> Job:
    """The job, if the current tenant queued it; otherwise it does not exist for them."""
    try:
        job = Job.fetch(job_id, connection=get_redis())
        call = job_call(job) if job.func_name == f"{run_job.__module__}.{run_job.__qualname__}" else None
    except (NoSuchJobError, IndexError, TypeError, ValueError):
        raise NotFound(job_id) from None
    if not isinstance(call, dict) or call.get("tenant_id") != current_tenant_id().hex:
        raise NotFound(job_id)
    if call.get("func") == IMPORT_FUNC:
        require("records.import")
    return job


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


@bp.get("/jobs/<job_id>")
def job_status(job_id: str) -> Any:
    job = _tenant_job(job_id)
    call = job_call(job)
    state = job.get_status(refresh=True)
    body: dict[str, Any] = {
        "id": job.id, "state": str(state.value if isinstance(state, JobStatus) else state),
        "enqueued_at": _iso(job.enqueued_at), "started_at": _iso(job.started_at),
        "ended_at": _iso(job.ended_at),
    }
    if call.get("func") != IMPORT_FUNC:
        return body
    type_name, _job_id, total = call["args"][:3]
    meta = job.get_meta(refresh=True)
    keys = ("total", "processed", "created", "updated", "duplicates", "failed")
    progress = {key: meta.get(key, 0) for key in keys}
    progress["total"] = meta.get("total", total)
    body.update(kind="import", entity_type=type_name, progress=progress)
    if meta.get("error"):
        body["error"] = meta["error"]
    if state in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        report = list(csv_io.read_report(job.id, limit=csv_io.REPORT_PREVIEW + 1))
        body["report"] = report[: csv_io.REPORT_PREVIEW]
        body["report_truncated"] = len(report) > csv_io.REPORT_PREVIEW
        body["report_url"] = url_for("api.job_report", job_id=job.id)
        if state != JobStatus.FINISHED and "error" not in body:
            body["error"] = (
                "The import stopped; the rows counted as processed are saved. It is logged for the operators."
            )
    return body


@bp.get("/jobs/<job_id>/report.csv")
def job_report(job_id: str) -> Any:
    job = _tenant_job(job_id)
    if job_call(job).get("func") != IMPORT_FUNC:
        raise NotFound(job_id)
    return Response(
        stream_with_context(csv_io.report_csv(job.id)), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{job.id}-report.csv"'},
    )


@bp.get("/records/<type_name>/export.csv")
def export_records(type_name: str) -> Any:
    args = request.args
    params = {k: v for k, v in args.items() if k not in LIST_PARAMS}
    chunks = csv_io.export_csv(
        type_name, params=params, q=args.get("q", ""), sort=args.get("sort", "-id"),
        trash=args.get("trash") in ("1", "true"),
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(chunks), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{type_name}-{stamp}.csv"'},
    )
