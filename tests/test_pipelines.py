"""Moves go through one service that enforces each stage's entry requirements."""

from __future__ import annotations

import pytest
from flask import Flask
from rq import SimpleWorker

from tests.support import jobs_fixture
from tests.support.crm import Api, crm_tenant
from tests.support.factories import TenantHandle, invite_and_join
from twofold import jobs
from twofold.auth.models import SecurityEvent
from twofold.auth.permissions import Actor, acting_as
from twofold.db import db
from twofold.tenancy.scope import tenant_scope


@pytest.fixture
def acme(app: Flask) -> TenantHandle:
    return crm_tenant(app, "acme")


@pytest.fixture
def api(app: Flask, acme: TenantHandle) -> Api:
    return Api(app, acme)


def _stage_key(api: Api, record: dict) -> str:
    pipeline = api.get(f"/pipelines/{record['pipeline_id']}").get_json()
    return next(s["key"] for s in pipeline["stages"] if s["id"] == record["stage_id"])


def _move(api: Api, deal: dict, stage: str, **extra):
    return api.post(f"/records/deal/{deal['id']}/move", json={"stage": stage, **extra})


def test_a_new_record_enters_the_first_stage_of_the_default_pipeline(api: Api) -> None:
    deal = api.create("deal", name="Big deal")
    assert _stage_key(api, deal) == "new"
    history = api.get(f"/records/deal/{deal['id']}/history").get_json()["data"]
    assert len(history) == 1 and history[0]["from_stage_id"] is None


def test_field_requirement_refuses_with_409_and_names_what_is_missing(api: Api) -> None:
    deal = api.create("deal", name="Big deal")
    refused = _move(api, deal, "proposal")
    assert refused.status_code == 409
    body = refused.get_json()["error"]
    assert body["stage"] == "proposal"
    assert body["unmet"] == [{"kind": "field", "name": "amount", "message": "Amount must be filled in."}]
    assert _stage_key(api, api.get(f"/records/deal/{deal['id']}").get_json()) == "new"
    api.patch(f"/records/deal/{deal['id']}", json={"amount": "150000.00"})
    moved = _move(api, deal, "proposal")
    assert moved.status_code == 200 and _stage_key(api, moved.get_json()["record"]) == "proposal"


def test_relation_requirements_check_the_committee_and_the_documents(api: Api) -> None:
    deal = api.create("deal", name="Deal", amount="10.00")
    unmet = _move(api, deal, "contract").get_json()["error"]["unmet"]
    assert {u["name"] for u in unmet} == {"signer", "contract"}

    signer = api.create("person", first_name="Sergey")
    document = api.create("document", name="Contract v1")
    api.post(f"/records/deal/{deal['id']}/relations", json={"role": "signer", "to_id": signer["id"]})
    api.post(f"/records/deal/{deal['id']}/relations", json={"role": "contract", "to_id": document["id"]})
    unmet = _move(api, deal, "contract").get_json()["error"]["unmet"]
    assert [u["name"] for u in unmet] == ["contract"]  # the contract is still a draft
    assert "approved" in unmet[0]["message"]

    api.patch(f"/records/document/{document['id']}", json={"status": "approved"})
    assert _move(api, deal, "contract").status_code == 200


def test_lost_and_on_hold_need_a_reason_and_moving_back_is_an_ordinary_move(api: Api) -> None:
    deal = api.create("deal", name="Deal", amount="10.00")
    assert _move(api, deal, "proposal").status_code == 200
    assert _move(api, deal, "on_hold").status_code == 409
    assert _move(api, deal, "on_hold", reason="Budget frozen until Q3").status_code == 200
    assert _move(api, deal, "proposal").status_code == 200  # reopened
    assert _move(api, deal, "new").status_code == 200  # moved back
    history = api.get(f"/records/deal/{deal['id']}/history").get_json()["data"]
    assert len(history) == 5
    assert history[2]["reason"] == "Budget frozen until Q3"


def test_an_admin_override_is_explicit_needs_a_reason_and_is_logged(
    app: Flask, acme: TenantHandle, api: Api
) -> None:
    deal = api.create("deal", name="Deal")
    assert _move(api, deal, "contract", override=True).status_code == 409  # no reason
    moved = _move(api, deal, "contract", override=True, reason="Signed on paper")
    assert moved.status_code == 200 and moved.get_json()["change"]["override"] is True
    assert api.get(f"/records/deal/{deal['id']}/history").get_json()["data"][-1]["override"] is True
    with app.app_context(), tenant_scope(acme.tenant_id):
        event = db.session.scalar(db.select(SecurityEvent).where(SecurityEvent.kind == "stage.override"))
        assert event is not None and event.detail["reason"] == "Signed on paper"
        assert set(event.detail["unmet"]) == {"signer", "contract"}


def test_an_agent_cannot_override(app: Flask, acme: TenantHandle) -> None:
    agent_id = invite_and_join(app, acme, "agent@acme.example.com", "agent")
    from twofold.entities import service
    from twofold.pipelines import service as pipelines
    from twofold.pipelines.service import MoveRefused

    with app.app_context(), tenant_scope(acme.tenant_id), acting_as(Actor(agent_id, "agent")):
        deal = service.create("deal", {"name": "Agent's deal"})
        from twofold.auth.permissions import PermissionDenied

        with pytest.raises(PermissionDenied):
            pipelines.move("deal", deal.id, "contract", override=True, reason="please")
        with pytest.raises(MoveRefused):
            pipelines.move("deal", deal.id, "contract")


def test_an_automation_job_cannot_bypass_the_gates(app: Flask, acme: TenantHandle, api: Api) -> None:
    deal = api.create("deal", name="Deal")
    with app.app_context():
        with tenant_scope(acme.tenant_id), acting_as(Actor(acme.user_id, "owner")):
            jobs.enqueue(jobs_fixture.move_deal, deal["id"], "proposal", retries=0)
            db.session.commit()
        queue = jobs.queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert queue.failed_job_registry.count == 1
        job = queue.fetch_job(queue.failed_job_registry.get_job_ids()[0])
        assert "MoveRefused" in job.latest_result().exc_string
    assert _stage_key(api, api.get(f"/records/deal/{deal['id']}").get_json()) == "new"


def test_stats_come_from_the_history(api: Api) -> None:
    deals = [api.create("deal", name=f"D{i}", amount="100.00") for i in range(4)]
    for deal in deals[:3]:
        _move(api, deal, "proposal")
    _move(api, deals[0], "won")
    _move(api, deals[1], "lost", reason="Price")
    pipeline_id = deals[0]["pipeline_id"]
    stats = {s["key"]: s for s in api.get(f"/pipelines/{pipeline_id}/stats").get_json()["stages"]}
    assert stats["new"]["entered"] == 4 and stats["proposal"]["entered"] == 3
    assert stats["new"]["conversion_to_next"] == 0.75
    assert stats["won"]["entered"] == 1 and stats["lost"]["entered"] == 1
    assert stats["new"]["current"] == 1 and stats["proposal"]["current"] == 1
    assert stats["new"]["avg_hours_in_stage"] is not None and stats["new"]["avg_hours_in_stage"] >= 0
    body = api.get(f"/pipelines/{pipeline_id}/stats").get_json()
    assert body["cycle_days"] is not None and body["cycle_days"] >= 0


def test_metrics_aggregate_in_sql(api: Api) -> None:
    for amount in ("100.00", "250.50"):
        api.create("deal", name="D", amount=amount)
    lost = api.create("deal", name="L", amount="999.00")
    _move(api, lost, "lost", reason="No budget")
    value = api.get("/metrics/testcrm.pipeline_value").get_json()
    assert value["value"] == pytest.approx(350.5)
    by_stage = api.get("/metrics/testcrm.deals_by_stage").get_json()
    assert {g["key"]: g["value"] for g in by_stage["groups"]} == {"New": 2, "Lost": 1}
