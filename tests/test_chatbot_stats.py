"""Speed to lead, bot completion and hand-off rates, on conversations worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from tests.support.crm import Api
from tests.support.factories import signup
from twofold.channels.models import Channel, ContactIdentity, Conversation
from twofold.db import db
from twofold.tenancy.scope import tenant_scope

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _chat(channel: Channel, n: int, *, flow: bool, reply_after: int | None, completed: bool,
          handed_off: bool, started: datetime = T0) -> None:
    identity = ContactIdentity(channel_id=channel.id, external_user_id=f"u{n}", address=f"u{n}")
    db.session.add(identity)
    db.session.flush()
    db.session.add(Conversation(
        channel_id=channel.id, identity_id=identity.id, flow_key="f" if flow else None,
        state="human", started_at=started, last_message_at=started,
        first_human_reply_at=started + timedelta(seconds=reply_after) if reply_after is not None else None,
        completed_at=started + timedelta(seconds=30) if completed else None,
        handed_off_at=started + timedelta(seconds=30) if handed_off else None,
    ))


def test_the_figures_match_a_hand_count(app: Flask) -> None:
    tenant = signup(app, "stats")
    with app.app_context(), tenant_scope(tenant.tenant_id):
        telegram = Channel(kind="telegram", name="Bot", settings={})
        site = Channel(kind="json", name="Site", settings={})
        db.session.add_all([telegram, site])
        db.session.flush()
        # Telegram: answered by a person after 2, 10 and 4 minutes; one never answered.
        _chat(telegram, 1, flow=True, reply_after=120, completed=True, handed_off=True)
        _chat(telegram, 2, flow=True, reply_after=600, completed=True, handed_off=True)
        _chat(telegram, 3, flow=True, reply_after=240, completed=False, handed_off=True)
        _chat(telegram, 4, flow=True, reply_after=None, completed=False, handed_off=False)
        # The site: no bot, a person answered after one minute.
        _chat(site, 5, flow=False, reply_after=60, completed=False, handed_off=True)
        # Started before the period asked about below: counted only without a period.
        _chat(site, 6, flow=False, reply_after=5, completed=False, handed_off=True,
              started=T0 - timedelta(days=40))
        db.session.commit()
    api = Api(app, tenant)

    period = api.get("/conversations/stats?since=2026-11-01&until=2026-12-01").get_json()
    # Speeds 120, 600, 240, 60 s: the median is (120 + 240) / 2; 3 of 4 within five minutes.
    assert period == {
        "conversations": 5, "with_flow": 4, "completed": 2, "handed_off": 4, "answered_by_person": 4,
        "median_speed_to_lead_seconds": 180.0, "answered_within_5_minutes": 0.75,
        "completion_rate": 0.5, "handoff_rate": 0.8,
    }
    on_telegram = api.get("/conversations/stats?since=2026-11-01&channel=telegram").get_json()
    # Speeds 120, 600, 240 s: the median is 240; 2 of 3 within five minutes.
    assert on_telegram["median_speed_to_lead_seconds"] == 240.0
    assert on_telegram["answered_within_5_minutes"] == round(2 / 3, 4)
    assert on_telegram["handoff_rate"] == 0.75
    everything = api.get("/conversations/stats").get_json()
    assert everything["conversations"] == 6 and everything["median_speed_to_lead_seconds"] == 120.0

    bad = api.get("/conversations/stats?since=yesterday")
    assert bad.status_code == 422 and "since" in bad.get_json()["errors"]


def test_no_conversations_give_empty_figures_not_errors(app: Flask) -> None:
    tenant = signup(app, "quiet")
    body = Api(app, tenant).get("/conversations/stats").get_json()
    assert body["conversations"] == 0
    assert body["median_speed_to_lead_seconds"] is None and body["completion_rate"] is None
