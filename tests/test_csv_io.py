"""CSV import as a background job, and CSV export as a stream, as a tenant's user sees them.

The jobs run in a real RQ worker (``SimpleWorker``, in this process) against the same
database and Redis as the app; everything is checked through the API a user calls.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker

from tests.support.crm import Api, crm_tenant
from tests.support.factories import TenantHandle, invite_and_join, signup
from twofold import jobs
from twofold.auth import tokens
from twofold.auth.permissions import Actor, acting_as
from twofold.db import db
from twofold.entities import csv_io
from twofold.entities.models import Activity, Record
from twofold.pipelines.models import StageChange
from twofold.tenancy.scope import tenant_scope


def _run_worker(app: Flask) -> None:
    with app.app_context():
        SimpleWorker([jobs.queue()], connection=app.extensions["twofold.redis"]).work(burst=True)


def _example_tenant(app: Flask, slug: str, **kwargs: Any) -> TenantHandle:
    tenant = signup(app, slug, **kwargs)
    response = app.test_client().post("/api/v1/packs/example/enable", headers=tenant.api())
    assert response.status_code == 200, response.get_json()
    return tenant


def _upload(client: FlaskClient, tenant: TenantHandle, text: str | bytes, *, type_name: str = "ticket",
            multipart: bool = True, query: str = "") -> Any:
    body = text.encode() if isinstance(text, str) else text
    path = f"/api/v1/records/{type_name}/import{query}"
    if multipart:
        return client.post(path, data={"file": (io.BytesIO(body), "upload.csv")},
                           content_type="multipart/form-data", headers=tenant.api())
    return client.post(path, data=body, content_type="text/csv", headers=tenant.api())


def _import(app: Flask, tenant: TenantHandle, text: str, **kwargs: Any) -> dict[str, Any]:
    """Upload, run the worker, and return the finished job's status."""
    client = app.test_client()
    response = _upload(client, tenant, text, **kwargs)
    assert response.status_code == 202, response.get_json()
    _run_worker(app)
    status = client.get(response.headers["Location"], headers=tenant.api())
    assert status.status_code == 200, status.get_json()
    return status.get_json()


def _list(client: FlaskClient, tenant: TenantHandle, type_name: str = "ticket", query: str = "") -> list:
    path = f"/api/v1/records/{type_name}?limit=500&sort=created_at{query}"
    response = client.get(path, headers=tenant.api())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _stage_keys(client: FlaskClient, tenant: TenantHandle, pipeline_key: str) -> dict[str, str]:
    """Stage id -> key of one of the tenant's pipelines."""
    pipelines = client.get("/api/v1/pipelines", headers=tenant.api()).get_json()["data"]
    (pipeline,) = [p for p in pipelines if p["key"] == pipeline_key]
    return {s["id"]: s["key"] for s in pipeline["stages"]}


def _queued_imports(app: Flask) -> int:
    """Import jobs waiting in the queue (events may queue other jobs beside them)."""
    with app.app_context():
        calls = [jobs.job_call(job) for job in jobs.queue().jobs]
    return sum(1 for call in calls if call.get("func") == "twofold.entities.csv_io:run_import")


def _token_for(app: Flask, tenant: TenantHandle, user_id: uuid.UUID, role: str) -> dict[str, str]:
    with app.app_context(), tenant_scope(tenant.tenant_id), acting_as(Actor(user_id, role)):
        _row, raw = tokens.issue("test")
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


# --- import -------------------------------------------------------------------------------


def test_an_import_creates_the_records_and_reports_when_done(app: Flask) -> None:
    acme = _example_tenant(app, "acme")
    client = app.test_client()
    # Labels ("Requester") and names ("priority") both map; an unknown column is named back,
    # and so is an export's id, which an import does not take.
    text = _csv([["Subject", "Requester", "Priority", "Notes", "ID"],
                 ["Printer jams", "ann@example.com", "high", "call back", str(uuid.uuid4())],
                 ["VPN is down", "bob@example.com", "", "", ""],
                 ["Password reset", "", "low", "", ""]])
    response = _upload(client, acme, text)
    assert response.status_code == 202, response.get_json()
    started = response.get_json()
    assert started["total"] == 3
    assert started["columns"] == {
        "Subject": "subject", "Requester": "requester_email", "Priority": "priority"}
    assert started["ignored_columns"] == ["Notes"] and started["read_only_columns"] == ["ID"]

    queued = client.get(started["status_url"], headers=acme.api()).get_json()
    assert queued["state"] == "queued"
    assert queued["progress"] == {"total": 3, "processed": 0, "created": 0, "updated": 0, "duplicates": 0,
                                  "failed": 0}
    assert _list(client, acme) == []

    _run_worker(app)
    done = client.get(started["status_url"], headers=acme.api()).get_json()
    assert done["state"] == "finished", done
    assert done["progress"] == {"total": 3, "processed": 3, "created": 3, "updated": 0, "duplicates": 0,
                                "failed": 0}
    assert done["report"] == [] and done["report_truncated"] is False

    tickets = _list(client, acme)
    assert [(t["subject"], t["requester_email"], t["priority"]) for t in tickets] == [
        ("Printer jams", "ann@example.com", "high"),
        ("VPN is down", "bob@example.com", "normal"),  # a blank cell takes the field's default
        ("Password reset", None, "low"),
    ]
    assert {t["owner_id"] for t in tickets} == {str(acme.user_id)}  # the importer owns them
    timeline = client.get(f"/api/v1/records/ticket/{tickets[0]['id']}/timeline", headers=acme.api())
    kinds = [(a["kind"], a["user_id"]) for a in timeline.get_json()["data"]]
    assert kinds == [("created", str(acme.user_id))]

    # The upload was kept under the tenant's folder while the job needed it, then removed.
    folder = Path(app.instance_path) / "tenants" / str(acme.tenant_id) / "imports"
    assert folder.is_dir() and list(folder.glob("*.csv")) == []


def test_a_text_csv_body_with_semicolons_and_a_bom_imports_too(app: Flask) -> None:
    acme = _example_tenant(app, "acme")
    text = "\ufeffsubject;requester_email\nÜmlaut in the name;zoë@example.com\n"
    done = _import(app, acme, text, multipart=False)
    assert done["progress"]["created"] == 1, done
    (ticket,) = _list(app.test_client(), acme)
    assert (ticket["subject"], ticket["requester_email"]) == ("Ümlaut in the name", "zoë@example.com")


def test_bad_rows_are_reported_by_row_number_while_good_rows_land(app: Flask) -> None:
    acme = _example_tenant(app, "acme")
    client = app.test_client()
    rows = [
        ["subject", "requester_email", "priority", "stage"],
        ["Good one", "a@example.com", "high", ""],                  # row 2
        ["Two\nlines, in \"quotes\"", "", "", ""],                   # row 3: one row in a spreadsheet
        ["Bad email", "not-an-email", "", ""],                       # row 4
        ["", "nobody@example.com", "", ""],                          # row 5: subject is required
        ["Bad priority", "", "urgent", ""],                          # row 6
        ["Refused at the gate", "", "", "resolved"],                 # row 7: resolution is required
        ["Good three", "", "low", ""],                               # row 8
    ]
    done = _import(app, acme, _csv(rows))
    assert done["state"] == "finished"
    assert done["progress"] == {"total": 7, "processed": 7, "created": 3, "updated": 0, "duplicates": 0,
                                "failed": 4}
    report = {item["row"]: item["errors"] for item in done["report"]}
    assert sorted(report) == [4, 5, 6, 7]
    assert list(report[4]) == ["requester_email"]
    assert report[5] == {"subject": ["Missing data for required field."]}
    assert list(report[6]) == ["priority"]
    assert report[7] == {"stage": ["Resolution must be filled in."]}

    assert [t["subject"] for t in _list(client, acme)] == [
        "Good one", "Two\nlines, in \"quotes\"", "Good three"]
    # The row refused at the gate had been written before the move failed: its savepoint
    # took the record, its timeline and its stage history away with it.
    with app.app_context(), tenant_scope(acme.tenant_id):
        assert db.session.scalar(db.select(db.func.count()).select_from(Record)) == 3
        assert db.session.scalar(db.select(db.func.count()).select_from(Activity)) == 3
        assert db.session.scalar(db.select(db.func.count()).select_from(StageChange)) == 3

    full = client.get(done["report_url"], headers=acme.api())
    assert full.status_code == 200 and full.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(full.get_data(as_text=True))))
    assert lines[0] == ["row", "field", "message"]
    assert [line[:2] for line in lines[1:]] == [["4", "requester_email"], ["5", "subject"], ["6", "priority"],
                                                ["7", "stage"]]
    assert lines[-1][2] == "Resolution must be filled in."


def test_unique_fields_dedupe_against_existing_records_and_earlier_rows(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    existing = api.create("person", first_name="Anna", email="anna@example.com")
    rows = [
        ["first_name", "email", "segment"],
        ["Anna again", "ANNA@example.com", "retail"],   # row 2: taken by the existing record
        ["Boris", "boris@example.com", ""],              # row 3
        ["Boris twice", "boris@example.com", ""],        # row 4: taken by row 3
        ["Vera", "", ""],                                 # row 5: nothing to dedupe on
    ]
    done = _import(app, acme, _csv(rows), type_name="person")
    assert done["progress"] == {"total": 4, "processed": 4, "created": 2, "updated": 0, "duplicates": 2,
                                "failed": 0}
    people = _list(api.client, acme, "person")
    assert [p["first_name"] for p in people] == ["Anna", "Boris", "Vera"]
    boris = people[1]
    assert done["report"] == [
        {"row": 2, "duplicate_of": existing["id"], "field": "email", "action": "skipped"},
        {"row": 4, "duplicate_of": boris["id"], "field": "email", "action": "skipped"},
    ]

    # on_duplicate=update fills the existing record instead, and creates no second one.
    update = _csv([["email", "first_name", "segment"], ["anna@example.com", "Anna", "wholesale"]])
    done = _import(app, acme, update, type_name="person", query="?on_duplicate=update")
    assert done["progress"]["updated"] == 1 and done["progress"]["created"] == 0, done
    anna = api.get(f"/records/person/{existing['id']}").get_json()
    assert anna["segment"] == "wholesale"
    assert len(_list(api.client, acme, "person", "&email=anna@example.com")) == 1


def test_a_stage_column_moves_records_through_the_pipeline_rules(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    api = Api(app, acme)
    rows = [
        ["name", "amount", "stage", "stage_reason"],
        ["By key", "100", "proposal", ""],          # row 2
        ["By name", "", "On hold", "Budget frozen"],  # row 3: on hold needs a reason, given
        ["No amount", "", "proposal", ""],          # row 4: proposal needs an amount
        ["No reason", "", "lost", ""],              # row 5: lost needs a reason
        ["Nowhere", "", "limbo", ""],               # row 6
        ["First stage", "", "new", ""],             # row 7: already there, no move
    ]
    done = _import(app, acme, _csv(rows), type_name="deal")
    assert done["progress"]["created"] == 3 and done["progress"]["failed"] == 3, done
    report = {item["row"]: item["errors"] for item in done["report"]}
    assert report == {
        4: {"stage": ["Amount must be filled in."]},
        5: {"stage": ["Say why the record goes to Lost."]},
        6: {"stage": ["No stage 'limbo' in this pipeline."]},
    }
    keys = _stage_keys(api.client, acme, "sales")
    deals = {d["name"]: d for d in _list(api.client, acme, "deal")}
    assert {name: keys[d["stage_id"]] for name, d in deals.items()} == {
        "By key": "proposal", "By name": "on_hold", "First stage": "new"}
    history = api.get(f"/records/deal/{deals['By name']['id']}/history").get_json()["data"]
    assert [(keys[h["to_stage_id"]], h["reason"]) for h in history] == [
        ("new", None), ("on_hold", "Budget frozen")]
    assert len(api.get(f"/records/deal/{deals['First stage']['id']}/history").get_json()["data"]) == 1


def test_progress_is_visible_while_the_import_runs(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    acme = _example_tenant(app, "acme")
    client = app.test_client()
    monkeypatch.setattr(csv_io, "BATCH", 2)
    text = _csv([["subject"], *[[f"Ticket {n}"] for n in range(5)]])
    response = _upload(client, acme, text)
    assert response.status_code == 202
    status_url = response.headers["Location"]

    # The job pauses after its first batch commits while another thread asks, as a user
    # polling the status would.
    committed, looked = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}
    commit = csv_io._commit

    def pausing_commit(*args: Any, **kwargs: Any) -> None:
        commit(*args, **kwargs)
        if not committed.is_set():
            committed.set()
            assert looked.wait(30), "the poller did not answer"

    def poll() -> None:
        try:
            assert committed.wait(30)
            poller = app.test_client()
            seen["status"] = poller.get(status_url, headers=acme.api()).get_json()
            seen["listed"] = [t["subject"] for t in _list(poller, acme)]
        finally:
            looked.set()

    monkeypatch.setattr(csv_io, "_commit", pausing_commit)
    poller = threading.Thread(target=poll)
    poller.start()
    _run_worker(app)
    poller.join(30)

    assert seen["status"]["state"] == "started"
    assert seen["status"]["progress"] == {"total": 5, "processed": 2, "created": 2, "updated": 0,
                                          "duplicates": 0, "failed": 0}
    assert "report" not in seen["status"]  # the report comes with the end
    assert seen["listed"] == ["Ticket 0", "Ticket 1"]  # a committed batch is visible at once
    done = client.get(status_url, headers=acme.api()).get_json()
    assert done["state"] == "finished" and done["progress"]["created"] == 5


def test_a_retried_import_goes_on_after_its_last_committed_batch(app: Flask, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    acme = _example_tenant(app, "acme")
    client = app.test_client()
    monkeypatch.setattr(csv_io, "BATCH", 2)
    text = _csv([["subject", "priority"], ["T0", ""], ["T1", "urgent"], ["T2", ""], ["T3", ""], ["T4", ""]])
    response = _upload(client, acme, text)
    create, calls = csv_io.records.create, {"n": 0}

    def flaky_create(type_name: str, data: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:  # the database goes away in the middle of the second batch
            raise ConnectionError("database restarted")
        return create(type_name, data)

    monkeypatch.setattr(csv_io.records, "create", flaky_create)
    _run_worker(app)
    job_id = response.get_json()["job_id"]
    failed = client.get(f"/api/v1/jobs/{job_id}", headers=acme.api()).get_json()
    # RQ schedules the retry; the first batch is saved and counted.
    assert failed["progress"]["processed"] == 2 and failed["progress"]["failed"] == 1, failed
    assert [t["subject"] for t in _list(client, acme)] == ["T0"]

    with app.app_context():
        from rq.job import Job

        job = Job.fetch(job_id, connection=app.extensions["twofold.redis"])
        jobs.queue().enqueue_job(job)  # the retry, now rather than in 10 seconds
    _run_worker(app)
    done = client.get(f"/api/v1/jobs/{job_id}", headers=acme.api()).get_json()
    assert done["state"] == "finished", done
    assert done["progress"] == {"total": 5, "processed": 5, "created": 4, "updated": 0, "duplicates": 0,
                                "failed": 1}
    assert [t["subject"] for t in _list(client, acme)] == ["T0", "T2", "T3", "T4"]
    assert [item["row"] for item in done["report"]] == [3]  # reported once, not per attempt


def test_a_job_is_visible_only_to_the_tenant_that_queued_it(app: Flask) -> None:
    acme, globex = _example_tenant(app, "acme"), _example_tenant(app, "globex")
    client = app.test_client()
    response = _upload(client, acme, _csv([["subject"], ["Secret"], ["Bad", "extra"]]))
    job_id = response.get_json()["job_id"]
    _run_worker(app)

    assert client.get(f"/api/v1/jobs/{job_id}", headers=acme.api()).status_code == 200
    for path in (f"/api/v1/jobs/{job_id}", f"/api/v1/jobs/{job_id}/report.csv"):
        answer = client.get(path, headers=globex.api())
        assert answer.status_code == 404, path
        assert answer.get_json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=acme.api()).status_code == 404
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 401
    # Nor does globex's own listing hold acme's record.
    assert _list(client, globex) == []


def test_import_and_export_need_their_permissions(app: Flask) -> None:
    acme = _example_tenant(app, "acme")
    client = app.test_client()
    job_id = _upload(client, acme, _csv([["subject"], ["One"]])).get_json()["job_id"]
    agent_id = invite_and_join(app, acme, "agent@acme.example.com", "agent")
    agent = _token_for(app, acme, agent_id, "agent")
    refused = client.post("/api/v1/records/ticket/import", data="subject\nTwo\n", content_type="text/csv",
                          headers=agent)
    assert refused.status_code == 403
    assert client.get(f"/api/v1/jobs/{job_id}", headers=agent).status_code == 403
    assert client.get("/api/v1/records/ticket/export.csv", headers=agent).status_code == 403

    manager_id = invite_and_join(app, acme, "manager@acme.example.com", "manager")
    manager = _token_for(app, acme, manager_id, "manager")
    assert client.get(f"/api/v1/jobs/{job_id}", headers=manager).status_code == 200
    assert client.get("/api/v1/records/ticket/export.csv", headers=manager).status_code == 200
    with app.app_context():
        assert _queued_imports(app) == 1  # the agent's refused upload queued nothing


@pytest.mark.parametrize(("body", "message"), [
    ("Subject\nCafé\n".encode("latin-1"), "not UTF-8"),
    (b"priority\nhigh\n", "Required fields have no column: Subject."),
    (b"colour,size\nred,XL\n", "No column matches a field of tickets"),
    (b"subject,Subject\nA,B\n", "both fill 'subject'"),
    (b"", "The file is empty."),
])
def test_files_that_cannot_be_imported_are_refused_at_once(app: Flask, body: bytes, message: str) -> None:
    acme = _example_tenant(app, "acme")
    response = _upload(app.test_client(), acme, body)
    assert response.status_code == 422, response.get_json()
    assert message in " ".join(response.get_json()["errors"]["file"])
    folder = Path(app.instance_path) / "tenants" / str(acme.tenant_id) / "imports"
    assert list(folder.glob("*")) == []  # nothing kept
    with app.app_context():
        assert _queued_imports(app) == 0


def test_an_upload_without_a_file_is_refused(app: Flask) -> None:
    acme = _example_tenant(app, "acme")
    response = app.test_client().post(
        "/api/v1/records/ticket/import", json={"subject": "x"}, headers=acme.api())
    assert response.status_code == 422
    assert "multipart field 'file'" in response.get_json()["errors"]["file"][0]


# --- export -------------------------------------------------------------------------------


def _export(client: FlaskClient, tenant: TenantHandle, query: str = "", type_name: str = "ticket") -> Any:
    return client.get(f"/api/v1/records/{type_name}/export.csv{query}", headers=tenant.api())


def test_export_streams_what_the_list_api_lists(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    acme = _example_tenant(app, "acme")
    client = app.test_client()
    for n, priority in enumerate(["high", "low", "high", "high", "normal", "high", "high"]):
        response = client.post("/api/v1/records/ticket", json={"subject": f"T{n}", "priority": priority},
                               headers=acme.api())
        assert response.status_code == 201
    monkeypatch.setattr(csv_io, "EXPORT_PAGE", 2)  # several pages for a few rows

    response = _export(client, acme, "?priority=high&sort=-subject")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ticket-')
    chunks = list(response.response)
    assert len(chunks) == 3  # the header with a page each time: 2 + 2 + 1 rows
    rows = list(csv.DictReader(io.StringIO(b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
                                           .decode())))
    assert [r["subject"] for r in rows] == ["T6", "T5", "T3", "T2", "T0"]
    listed = client.get("/api/v1/records/ticket?priority=high&sort=-subject", headers=acme.api()).get_json()
    assert [r["id"] for r in rows] == [r["id"] for r in listed["data"]]
    assert {(r["stage"], r["owner"]) for r in rows} == {("new", acme.email)}

    bad = _export(client, acme, "?priority=urgent")
    assert bad.status_code == 422 and "priority" in bad.get_json()["errors"]


def test_export_then_import_into_another_tenant_gives_the_same_values(app: Flask) -> None:
    acme = crm_tenant(app, "acme")
    globex = crm_tenant_for(app, "globex", acme.email)
    api = Api(app, acme)
    api.create("person", first_name="Anna", last_name="=HYPERLINK(\"http://evil\")", email="anna@example.com",
               phone="+7 912 345-67-89", website="https://anna.example.com", age=31, vip=True,
               birthday="1994-05-02", last_seen="2024-03-01T10:30:00+03:00", segment="retail",
               tags=["new", "loyal"])
    api.create("person", first_name="Boris", last_name="Line one\nline two, \"quoted\"", age=-4.5)
    api.create("person", first_name="Vera")
    deal = api.create("deal", name="Big deal", amount="1234.50", currency="EUR")
    assert api.post(f"/records/deal/{deal['id']}/move", json={"stage": "proposal"}).status_code == 200
    lost = api.create("deal", name="Lost deal")
    assert api.post(f"/records/deal/{lost['id']}/move", json={"stage": "lost", "reason": "Too pricey"}
                    ).status_code == 200

    for type_name in ("person", "deal"):
        exported = _export(api.client, acme, type_name=type_name)
        assert exported.status_code == 200
        text = exported.get_data(as_text=True)
        if type_name == "person":
            assert "'=HYPERLINK" in text  # a spreadsheet shows it as text, never runs it
        done = _import(app, globex, text, type_name=type_name)
        assert done["progress"]["failed"] == 0, done["report"]

    fields = {"person": ["first_name", "last_name", "email", "phone", "website", "age", "vip", "birthday",
                         "last_seen", "segment", "tags"],
              "deal": ["name", "amount", "currency", "manager", "lost_reason"]}
    other = Api(app, globex)
    keys_acme = _stage_keys(api.client, acme, "sales")
    keys_globex = _stage_keys(other.client, globex, "sales")
    for type_name, names in fields.items():
        mine = sorted([r[n] for n in names] for r in _list(api.client, acme, type_name))
        theirs = sorted([r[n] for n in names] for r in _list(other.client, globex, type_name))
        assert len(mine) == {"person": 3, "deal": 2}[type_name]
        assert theirs == mine
        # The same person owns them in both companies, found by email.
        assert {r["owner_id"] for r in _list(other.client, globex, type_name)} == {str(acme.user_id)}
    (anna,) = [p for p in _list(other.client, globex, "person") if p["first_name"] == "Anna"]
    assert anna["last_name"] == "=HYPERLINK(\"http://evil\")"

    # Stages travel by key, with the reason a deal is on its stage.
    stages_globex = sorted((d["name"], keys_globex[d["stage_id"]])
                           for d in _list(other.client, globex, "deal"))
    stages_acme = sorted((d["name"], keys_acme[d["stage_id"]]) for d in _list(api.client, acme, "deal"))
    assert stages_globex == stages_acme == [("Big deal", "proposal"), ("Lost deal", "lost")]
    # A second export of the imported data reads the same as the first, but for ids and times.
    again = [_strip(_export(other.client, globex, type_name=t).get_data(as_text=True)) for t in fields]
    first = [_strip(_export(api.client, acme, type_name=t).get_data(as_text=True)) for t in fields]
    assert again == first
    assert any("Too pricey" in row for row in first[1])


def crm_tenant_for(app: Flask, slug: str, email: str) -> TenantHandle:
    """Another company of the same person (their account signs up a second company)."""
    from tests.support.crm import ensure_plugin

    ensure_plugin(app)
    tenant = signup(app, slug, email=email)
    response = app.test_client().post("/api/v1/packs/testcrm/enable", headers=tenant.api())
    assert response.status_code == 200
    return tenant


def _strip(text: str) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return sorted(
        ",".join(v for k, v in row.items() if k not in ("id", "created_at", "updated_at")) for row in rows
    )
