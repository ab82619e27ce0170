"""CSV import (a background job) and export (a stream) for every entity type.

Both keep memory flat however large the file: the import reads the saved upload row by
row and commits in batches, the export walks the list query's keyset pages.

Import. :func:`start_import` saves the upload under the tenant's folder
(``<instance>/tenants/<tenant id>/imports/<job id>.csv``), checks that it is UTF-8 and
that its header maps onto the type's fields (a column may be named by the field's name or
its label; ``stage`` and ``owner`` are understood; the read-only columns an export writes
are ignored), and queues :func:`run_import`. The job validates every row through the
service (``entities.service.create``, so the same schemas as the API) inside a SAVEPOINT,
so a bad row is rolled back alone and reported, and commits every :data:`BATCH` rows.
A ``stage`` cell moves the new record through ``pipelines.service.move``, so stage entry
rules hold on this path too. Unique fields dedupe: a row whose unique value is already
taken (by an existing record or an earlier row) is skipped, or, with
``on_duplicate=update``, updates that record. Progress lives in the RQ job's meta, the
per-row report in ``<job id>.report.jsonl`` beside the upload. Row numbers are those a
spreadsheet shows: the header is row 1, the first record row 2.

A retried job resumes after the last committed batch (the checkpoint in its meta), so a
transient failure does not import rows twice.

Export. :func:`export_csv` returns a generator of CSV text, one page of the list query
(:mod:`twofold.entities.query`, same filters, sort and search as the list API) at a time.
Cells that a spreadsheet would run as a formula get a leading apostrophe, which the
import takes off again.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask import current_app, has_request_context
from rq import get_current_job

from twofold import jobs
from twofold.auth.models import Membership, User
from twofold.auth.permissions import acting_as, current_actor, require
from twofold.db import db, new_id
from twofold.entities import query
from twofold.entities import service as records
from twofold.entities.meta import EntityType, Field
from twofold.entities.schemas import blank, marshmallow_field
from twofold.exceptions import Conflict
from twofold.packs import registry
from twofold.tenancy.scope import current_tenant_id, tenant_scope
from twofold.validation import ValidationError

BATCH = 500  # rows per commit (and per progress update)
EXPORT_PAGE = 500
REPORT_PREVIEW = 1000  # report lines the job status carries; the CSV report has them all
CHUNK = 1 << 16
RESULT_TTL = 7 * 24 * 3600  # how long a finished import's status stays readable
JOB_TIMEOUT = 6 * 3600
DUPLICATE_MODES = ("skip", "update")

# Columns an export writes that are not fields: read back as stage / owner, or ignored.
STAGE, STAGE_REASON, OWNER = "stage", "stage_reason", "owner"
READ_ONLY = ("id", "type", "title", "created_at", "updated_at", "deleted_at", "pipeline_id", "stage_id")
READ_ONLY_KEYS = {column.replace("_", " ") for column in READ_ONLY}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPED_TYPES = {"text", "choice", "email", "url"}
NOT_UTF8 = "The file is not UTF-8 text; save it as 'CSV UTF-8'."


class ImportAborted(Exception):
    """The whole import cannot go on (the header no longer matches the type)."""


# --- reading the file ---------------------------------------------------------------------


def imports_folder(tenant_id: uuid.UUID) -> Path:
    return Path(current_app.instance_path) / "tenants" / str(tenant_id) / "imports"


def _paths(tenant_id: uuid.UUID, job_id: str) -> tuple[Path, Path]:
    folder = imports_folder(tenant_id)
    return folder / f"{job_id}.csv", folder / f"{job_id}.report.jsonl"


def _save(source: IO[bytes], path: Path, max_bytes: int) -> None:
    """Copy the upload to disk in chunks, checking it is UTF-8 on the way."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = 0
    with path.open("wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise ValidationError({"file": [f"The file is larger than {max_bytes // (1024 * 1024)} MB."]})
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                raise ValidationError({"file": [NOT_UTF8]}) from None
            out.write(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ValidationError({"file": [NOT_UTF8]}) from None
    if size == 0:
        raise ValidationError({"file": ["The file is empty."]})


def _open(path: Path) -> IO[str]:
    return path.open(encoding="utf-8-sig", newline="")


def _delimiter(path: Path) -> str:
    with _open(path) as handle:
        header = handle.readline()
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _blank_row(row: dict[str | None, Any]) -> bool:
    return all(isinstance(v, str) and not v.strip() for k, v in row.items() if k is not None)


def _rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, str] | csv.Error]]:
    """``(spreadsheet row number, row)`` for every non-blank row; a broken row is its error."""
    with _open(path) as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        number = 1
        while True:
            number += 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield number, exc
                continue
            if not _blank_row(row):
                yield number, row


# --- mapping the header -------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Which column feeds which field, and what the import leaves out."""

    columns: dict[str, str]  # header -> field name, or STAGE / STAGE_REASON / OWNER / "owner_id"
    ignored: list[str] = field(default_factory=list)  # unknown columns: their cells are not imported
    read_only: list[str] = field(default_factory=list)  # an export's id and timestamps: set by the import

    def as_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "ignored_columns": self.ignored, "read_only_columns": self.read_only}


def _key(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").split())


def plan_columns(etype: EntityType, header: list[str] | None) -> Plan:
    if not header:
        raise ValidationError({"file": ["The file has no header row; the first row must name the fields."]})
    names: dict[str, str] = {}
    for f in etype.fields:  # labels first, so that a field's own name wins a clash
        names[_key(f.display_label)] = f.name
    for f in etype.fields:
        names[_key(f.name)] = f.name
    names.update({STAGE: STAGE, "stage reason": STAGE_REASON, OWNER: OWNER, "owner email": OWNER,
                  "owner id": "owner_id"})
    columns: dict[str, str] = {}
    ignored: list[str] = []
    read_only: list[str] = []
    taken: dict[str, str] = {}
    errors: list[str] = []
    for column in header:
        target = names.get(_key(column or ""))
        if target is None:
            (read_only if _key(column or "") in READ_ONLY_KEYS else ignored).append(column)
            continue
        if target in taken:
            errors.append(f"Columns {taken[target]!r} and {column!r} both fill {target!r}.")
            continue
        taken[target] = column
        columns[column] = target
    if OWNER in taken and "owner_id" in taken:
        errors.append("Give the owner once: an 'owner' (email) or an 'owner_id' column.")
    fields_given = set(taken) - {STAGE, STAGE_REASON, OWNER, "owner_id"}
    if not fields_given and not errors:
        errors.append(
            f"No column matches a field of {etype.plural.lower()}: name columns after fields or their labels."
        )
    missing = [
        f.display_label for f in etype.fields if f.required and f.default is None and f.name not in taken
    ]
    if missing:
        errors.append(f"Required fields have no column: {', '.join(missing)}.")
    if errors:
        raise ValidationError({"file": errors})
    return Plan(columns, ignored, read_only)


def _read_plan(etype: EntityType, path: Path, delimiter: str) -> Plan:
    with _open(path) as handle:
        try:
            header = next(csv.reader(handle, delimiter=delimiter), None)
        except csv.Error as exc:
            raise ValidationError({"file": [f"The header row is not readable as CSV: {exc}."]}) from None
    return plan_columns(etype, header)


# --- starting an import -------------------------------------------------------------------


@dataclass(frozen=True)
class ImportStarted:
    job_id: str
    total: int
    plan: Plan


def start_import(type_name: str, source: IO[bytes], *, on_duplicate: str = "skip") -> ImportStarted:
    """Save the upload, check its header and queue the job (it leaves on commit)."""
    require("records.import")
    etype = registry.entity_type(type_name)
    if on_duplicate not in DUPLICATE_MODES:
        raise ValidationError({"on_duplicate": [f"Use one of: {', '.join(DUPLICATE_MODES)}."]})
    job_id = str(new_id())
    path, _report = _paths(current_tenant_id(), job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _save(source, path, current_app.config.get("IMPORT_MAX_BYTES", 512 * 1024 * 1024))
        delimiter = _delimiter(path)
        plan = _read_plan(etype, path, delimiter)
        total = sum(1 for _ in _rows(path, delimiter))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    jobs.enqueue(
        run_import, type_name, job_id, total, on_duplicate,
        job_id=job_id, job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL,
    )
    return ImportStarted(job_id, total, plan)


# --- the job ------------------------------------------------------------------------------


@dataclass
class _Progress:
    total: int
    processed: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    failed: int = 0
    checkpoint: int = 1  # the last row number whose batch is committed
    report_bytes: int = 0

    def as_meta(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _RowValues:
    data: dict[str, Any] = field(default_factory=dict)
    stage: str | None = None
    reason: str | None = None  # why the record is on its stage (a lost deal's reason)
    errors: dict[str, list[str]] = field(default_factory=dict)


class _Cells:
    """Turns a row's cells into the values the service takes."""

    def __init__(self, etype: EntityType, plan: Plan) -> None:
        self.etype = etype
        self.plan = plan
        self._owners: dict[str, uuid.UUID | None] = {}

    def values(self, row: dict[str, str]) -> _RowValues:
        out = _RowValues()
        data, errors = out.data, out.errors
        for column, target in self.plan.columns.items():
            raw = row.get(column)
            if raw is None or not raw.strip():
                continue
            if target == STAGE:
                out.stage = raw.strip()
            elif target == STAGE_REASON:
                out.reason = raw.strip()
            elif target == OWNER:
                owner = self._owner(raw.strip())
                if owner is None:
                    errors[OWNER] = [f"No member of this company has the email {raw.strip()!r}."]
                else:
                    data["owner_id"] = str(owner)
            elif target == "owner_id":
                data["owner_id"] = raw.strip()
            else:
                f = self.etype.field(target)
                assert f is not None
                data[target] = _from_cell(f, raw)
        return out

    def _owner(self, email: str) -> uuid.UUID | None:
        key = email.lower()
        if key not in self._owners:
            self._owners[key] = db.session.scalar(
                db.select(Membership.user_id)
                .join(User, User.id == Membership.user_id)
                .where(User.email == key)
            )
        return self._owners[key]


def _from_cell(f: Field, raw: str) -> Any:
    if f.type == "multi_choice":
        text = raw.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                pass
        return [part.strip() for part in text.split(";") if part.strip()]
    if f.type in ESCAPED_TYPES and raw.startswith("'") and raw[1:2] and raw[1:2] in FORMULA_STARTS:
        return raw[1:]
    return raw if f.type == "text" else raw.strip()


def _duplicate(etype: EntityType, data: dict[str, Any]) -> tuple[str, Any] | None:
    """The first unique field whose value another live record already has."""
    for f in etype.fields:
        if not f.unique or blank(data.get(f.name)):
            continue
        try:
            value = marshmallow_field(f, partial=True).deserialize(data[f.name])
        except ValidationError:
            continue  # create() reports the bad value
        existing = records.find_duplicate(etype, f.name, value)
        if existing is not None:
            return f.name, existing
    return None


def _move(type_name: str, record_id: uuid.UUID, stage: str, reason: str | None) -> None:
    """Put the record on the stage a cell names (key, id or name), through the one service."""
    from twofold.pipelines import service as pipelines  # pipelines build on entities

    record = records.get(type_name, record_id)
    if record.pipeline_id is None:
        raise ValidationError({STAGE: ["This type of record has no pipeline."]})
    target = next(
        (s for s in pipelines.stages(pipelines.get_pipeline(record.pipeline_id))
         if stage in (s.key, str(s.id)) or _key(stage) == _key(s.name)),
        None,
    )
    if target is None:
        raise ValidationError({STAGE: [f"No stage {stage!r} in this pipeline."]})
    if target.id == record.stage_id:
        return
    try:
        pipelines.move(type_name, record_id, target.id, reason=reason)
    except pipelines.MoveRefused as exc:
        raise ValidationError({STAGE: [u.message for u in exc.unmet]}) from None


def _import_row(type_name: str, etype: EntityType, cells: _Cells, row: dict[Any, Any],
                on_duplicate: str) -> tuple[str, dict[str, Any]]:
    """Import one row inside a savepoint: ``(outcome, report detail)``."""
    if None in row:  # DictReader keeps cells beyond the header under None
        return "failed", {"errors": {"_row": ["The row has more cells than the header has columns."]}}
    given = cells.values(row)
    data = given.data
    if given.errors:
        return "failed", {"errors": given.errors}
    try:
        with db.session.begin_nested():
            duplicate = _duplicate(etype, data)
            if duplicate is not None:
                name, existing = duplicate
                detail = {"duplicate_of": str(existing.id), "field": name}
                if on_duplicate == "skip":
                    return "duplicates", {**detail, "action": "skipped"}
                detail["action"] = "updated"
                record = records.update(type_name, existing.id, data)
                outcome = "updated"
            else:
                record = records.create(type_name, data)
                outcome, detail = "created", {}
            if given.stage:
                _move(type_name, record.id, given.stage, given.reason)
            return outcome, detail
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_row": exc.messages}
        return "failed", {"errors": messages}
    except Conflict as exc:
        return "failed", {"errors": {"_row": [exc.message]}}


def run_import(type_name: str, job_id: str, total: int, on_duplicate: str = "skip") -> dict[str, Any]:
    """The job: import the saved file in batches, keeping progress and the report."""
    require("records.import")
    etype = registry.entity_type(type_name)
    path, report_path = _paths(current_tenant_id(), job_id)
    job = get_current_job()
    meta = job.meta if job is not None else {}
    progress = _Progress(total)
    if meta.get("checkpoint"):  # a retry: go on after the last committed batch
        progress = _Progress(**{k: meta[k] for k in progress.as_meta() if k in meta})
    delimiter = _delimiter(path)
    try:
        cells = _Cells(etype, _read_plan(etype, path, delimiter))
    except ValidationError as exc:
        _save_meta(job, progress, error=" ".join(exc.messages.get("file", [])))
        raise ImportAborted(f"the header of import {job_id} no longer matches {type_name}") from None

    with _registry_kept(), report_path.open("ab") as report:
        report.truncate(progress.report_bytes)
        pending: list[dict[str, Any]] = []
        _save_meta(job, progress)
        for number, row in _rows(path, delimiter):
            if number <= progress.checkpoint:
                continue
            if isinstance(row, csv.Error):
                outcome, detail = "failed", {"errors": {"_row": [f"Not readable as CSV: {row}."]}}
            else:
                outcome, detail = _import_row(type_name, etype, cells, row, on_duplicate)
            setattr(progress, outcome, getattr(progress, outcome) + 1)
            progress.processed += 1
            if detail:
                pending.append({"row": number, **detail})
            if progress.processed % BATCH == 0:
                _commit(job, progress, number, report, pending)
        _commit(job, progress, progress.checkpoint, report, pending, last=True)
    path.unlink(missing_ok=True)
    return {k: v for k, v in progress.as_meta().items() if k not in ("checkpoint", "report_bytes")}


@contextmanager
def _registry_kept() -> Iterator[None]:
    """Keep one tenant registry for the whole job.

    ``packs.registry.current()`` caches on ``g`` only inside a request; outside one it is
    rebuilt (queries and every plugin's hooks) on each lookup, which ``create`` and
    ``move`` do several times per row: a third of an import's time. A request context of
    the job's own (same app context, so same ``g``; no request hooks run) makes the cache
    apply. Remove once the registry caches per app context.
    """
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/", environ_base={"REMOTE_ADDR": ""}):
        yield


def _commit(job: Any, progress: _Progress, number: int, report: IO[bytes], pending: list[dict[str, Any]],
            *, last: bool = False) -> None:
    """Commit the batch, then write its report lines and the checkpoint."""
    db.session.commit()
    db.session.expunge_all()  # nothing of the batch stays in memory
    for line in pending:
        report.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
    report.flush()
    pending.clear()
    progress.report_bytes = report.tell()
    if not last:
        progress.checkpoint = number
    _save_meta(job, progress)


def _save_meta(job: Any, progress: _Progress, **extra: Any) -> None:
    if job is None:
        return
    job.meta.update({"kind": "import", **progress.as_meta(), **extra})
    job.save_meta()


# --- reading a job's state ----------------------------------------------------------------


def read_report(job_id: str, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The report lines of an import of the current tenant, in row order."""
    _path, report_path = _paths(current_tenant_id(), job_id)
    if not report_path.exists():
        return
    with report_path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if limit is not None and index >= limit:
                return
            yield json.loads(line)


def report_csv(job_id: str) -> Iterator[str]:
    """The full report as CSV: one line per field error, duplicates named as such."""
    tenant_id, actor = current_tenant_id(), current_actor()

    def lines() -> Iterator[str]:
        with tenant_scope(tenant_id), acting_as(actor):
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["row", "field", "message"])
            for item in read_report(job_id):
                if "duplicate_of" in item:
                    message = f"Same {item['field']} as record {item['duplicate_of']}; {item['action']}."
                    writer.writerow([item["row"], item["field"], message])
                for name, messages in item.get("errors", {}).items():
                    for message in _flatten(messages):
                        writer.writerow([item["row"], name, message])
                if buffer.tell() > CHUNK:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

    return lines()


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flatten(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _flatten(value)]
    return [str(messages)]


# --- export -------------------------------------------------------------------------------


def _to_cell(f: Field, value: Any) -> str:
    if blank(value):
        return ""
    if f.type == "multi_choice":
        return "; ".join(str(v) for v in value)
    if f.type == "bool":
        return "true" if value else "false"
    text = str(value)
    if f.type in ESCAPED_TYPES and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Names:
    """Stage keys and owner emails for the export, each looked up once."""

    def __init__(self) -> None:
        self._stages: dict[uuid.UUID, str] = {}
        self._emails: dict[uuid.UUID, str] = {}

    def stage(self, stage_id: uuid.UUID | None) -> str:
        if stage_id is None:
            return ""
        if stage_id not in self._stages:
            from twofold.pipelines.models import Stage

            self._stages[stage_id] = db.session.scalar(db.select(Stage.key).where(Stage.id == stage_id)) or ""
        return self._stages[stage_id]

    def email(self, user_id: uuid.UUID | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self._emails:
            self._emails[user_id] = db.session.scalar(db.select(User.email).where(User.id == user_id)) or ""
        return self._emails[user_id]


def export_header(etype: EntityType) -> list[str]:
    return ["id", *(f.name for f in etype.fields), STAGE, STAGE_REASON, OWNER, "created_at", "updated_at"]


def export_csv(type_name: str, *, params: dict[str, str] | None = None, q: str = "", sort: str = "id",
               trash: bool = False) -> Iterator[str]:
    """CSV text of every record the list API would list, one page at a time.

    Permissions and filters are checked now (a bad filter is an error before the first
    byte); the pages are read as the caller consumes the generator, in the tenant and as
    the actor of this call.
    """
    require("records.export")
    etype = registry.entity_type(type_name)
    options = {"params": params or {}, "q": q, "sort": sort, "trash": trash, "limit": EXPORT_PAGE}
    first = query.list_records(type_name, **options)
    tenant_id, actor = current_tenant_id(), current_actor()

    def pages() -> Iterator[str]:
        with tenant_scope(tenant_id), acting_as(actor):
            names = _Names()
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(export_header(etype))
            page: query.Page | None = first
            while page is not None:
                reasons = _stage_reasons(page.records)
                for record in page.records:
                    writer.writerow(_export_row(etype, record, names, reasons.get(record.id, "")))
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                # The session holds unchanged records weakly: a page leaves memory with
                # the next (tests/test_csv_memory.py).
                cursor = page.next_cursor
                page = query.list_records(type_name, cursor=cursor, **options) if cursor else None

    return pages()


def _stage_reasons(page: list[Any]) -> dict[uuid.UUID, str]:
    """Why each record of the page is on its stage: the reason of the move that put it there."""
    from twofold.pipelines.models import StageChange

    on_stage = {r.id: r.stage_id for r in page if r.stage_id is not None}
    if not on_stage:
        return {}
    moves = db.session.execute(
        db.select(StageChange.record_id, StageChange.to_stage_id, StageChange.reason)
        .where(StageChange.record_id.in_(list(on_stage)))
        .order_by(StageChange.at, StageChange.id)
    )
    reasons: dict[uuid.UUID, str] = {}
    for record_id, to_stage_id, reason in moves:
        if to_stage_id == on_stage[record_id]:
            reasons[record_id] = reason or ""
    return reasons


def _export_row(etype: EntityType, record: Any, names: _Names, reason: str) -> list[str]:
    values = records.values(etype, record)
    return [
        str(record.id),
        *(_to_cell(f, values.get(f.name)) for f in etype.fields),
        names.stage(record.stage_id),
        reason,
        names.email(record.owner_id),
        record.created_at.isoformat(),
        record.updated_at.isoformat(),
    ]


__all__ = [
    "ImportAborted", "ImportStarted", "Plan", "export_csv", "imports_folder", "plan_columns",
    "read_report", "report_csv", "run_import", "start_import",
]
