"""The kanban board: columns and totals, drag-and-drop moves (htmx) and refusals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support import sales_pack
from tests.support.web import Browser, owner_browser, text, visible_text
from twofold.web import board_views

STATIC = Path(__file__).resolve().parents[1] / "platform" / "twofold" / "web" / "static"


@pytest.fixture
def sales(app: Flask) -> Iterator[None]:
    with sales_pack.installed(app):
        yield


def _pipeline(b: Browser, key: str) -> dict:
    return next(p for p in b.api("get", "/pipelines").get_json()["data"] if p["key"] == key)


def _deal(b: Browser, name: str, amount: str | None = None, stage: str | None = None) -> str:
    body = {"name": name} if amount is None else {"name": name, "amount": amount}
    deal_id = b.api("post", "/records/deal", json=body).get_json()["id"]
    if stage:
        assert b.api("post", f"/records/deal/{deal_id}/move", json={"stage": stage}).status_code == 200
    return deal_id


def _column(html: str, stage_id: str) -> str:
    start = html.index(f'id="col-head-{stage_id}"')
    end = html.find('<section class="column"', start)
    return html[start : end if end != -1 else None]


def test_the_board_shows_a_column_per_stage_with_count_and_sum(app: Flask, sales: None) -> None:
    b = owner_browser(app, "boardco", "salestest")
    pipeline = _pipeline(b, "sales")
    stages = {s["key"]: s["id"] for s in pipeline["stages"]}
    _deal(b, "Big deal", "12000")
    _deal(b, "Small deal", "800.50")
    _deal(b, "Unpriced")
    _deal(b, "Qualified one", "1000", stage="qualified")

    response = b.get(f"/board/{pipeline['id']}")
    assert response.status_code == 200
    html = text(response)
    assert [m.strip() for m in re.findall(r"<h2>([^<]+)", html)] == [
        "Lead",
        "Qualified",
        "Contract",
        "Won",
        "Lost",
    ]
    lead = visible_text(_column(html, stages["lead"]))
    assert "3 · 12,800.50" in lead and "Big deal" in lead and "Unpriced" in lead
    assert "1 · 1,000.00" in visible_text(_column(html, stages["qualified"]))
    assert "0 · 0.00" in visible_text(_column(html, stages["won"]))
    # Drag and drop: the vendored library, one droppable list per column, the move URL per card.
    assert "vendor/sortable/Sortable.min.js" in html and "twofold.js" in html
    assert f'data-stage-id="{stages["lead"]}" data-board-column="{pipeline["id"]}"' in html
    assert f"/board/{pipeline['id']}/cards/" in html
    assert """hx-headers='{"X-CSRFToken": """ in html


def test_a_drop_on_a_gated_stage_is_refused_with_the_requirement(app: Flask, sales: None) -> None:
    b = owner_browser(app, "gateco", "salestest")
    pipeline = _pipeline(b, "sales")
    stages = {s["key"]: s["id"] for s in pipeline["stages"]}
    deal = _deal(b, "Big deal", "5000")

    response = b.post(f"/board/{pipeline['id']}/cards/{deal}/move", {"stage": stages["contract"]}, htmx=True)
    assert response.status_code == 409
    card = text(response)
    assert card.lstrip().startswith(f'<article class="kanban-card refused" id="card-{deal}"')
    assert "Add the customer company." in visible_text(card)
    assert b.api("get", f"/records/deal/{deal}").get_json()["stage_id"] == stages["lead"]

    response = b.post(f"/board/{pipeline['id']}/cards/{deal}/move", {"stage": stages["lost"]}, htmx=True)
    assert response.status_code == 409 and "Say why the record goes to Lost." in visible_text(text(response))


def test_an_accepted_drop_answers_the_card_and_every_column_total(app: Flask, sales: None) -> None:
    b = owner_browser(app, "dropco", "salestest")
    pipeline = _pipeline(b, "sales")
    stages = {s["key"]: s["id"] for s in pipeline["stages"]}
    deal = _deal(b, "Big deal", "5000")

    response = b.post(f"/board/{pipeline['id']}/cards/{deal}/move", {"stage": stages["qualified"]}, htmx=True)
    assert response.status_code == 200
    html = text(response)
    assert f'id="card-{deal}"' in html and "refused" not in html
    assert f'<header class="column-head" id="col-head-{stages["qualified"]}" hx-swap-oob="true">' in html
    assert "1 · 5,000.00" in visible_text(html[html.index(f'id="col-head-{stages["qualified"]}"') :])
    assert "0 · 0.00" in visible_text(html[html.index(f'id="col-head-{stages["lead"]}"') :])
    history = b.api("get", f"/records/deal/{deal}/history").get_json()["data"]
    assert history[-1]["to_stage_id"] == stages["qualified"] and history[-1]["user_id"] == str(
        b.tenant.user_id
    )


def test_a_drop_without_the_csrf_header_is_refused(app: Flask, sales: None) -> None:
    b = owner_browser(app, "csrfco", "salestest")
    pipeline = _pipeline(b, "sales")
    deal = _deal(b, "Big deal", "5000")
    response = b.client.post(
        b.url(f"/board/{pipeline['id']}/cards/{deal}/move"),
        data={"stage": pipeline["stages"][1]["id"]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400


def test_the_move_form_on_a_card_works_without_javascript(app: Flask) -> None:
    b = owner_browser(app, "nojsco", "example")
    pipeline = _pipeline(b, "support")
    stages = {s["key"]: s["id"] for s in pipeline["stages"]}
    ticket = b.api("post", "/records/ticket", json={"subject": "Printer"}).get_json()["id"]

    response = b.post(f"/board/{pipeline['id']}/cards/{ticket}/move", {"stage": stages["resolved"]})
    assert response.status_code == 409
    html = text(response)
    card = html[html.index(f'id="card-{ticket}"') :]
    card = card[: card.index("</article>")]
    assert (
        "Resolution must be filled in." in visible_text(card) and '<details class="card-move" open>' in card
    )

    response = b.post(
        f"/board/{pipeline['id']}/cards/{ticket}/move", {"stage": stages["rejected"], "reason": "Spam"}
    )
    assert response.status_code == 302
    page = visible_text(text(b.client.get(response.headers["Location"])))
    assert "Moved “Printer”." in page
    rejected = visible_text(_column(text(b.get(f"/board/{pipeline['id']}")), stages["rejected"]))
    assert "Rejected lost 1 Printer" in rejected


def test_load_more_brings_the_next_cards_of_a_column(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_views, "PAGE_SIZE", 2)
    b = owner_browser(app, "moreco", "example")
    pipeline = _pipeline(b, "support")
    new = pipeline["stages"][0]["id"]
    for subject in ("First", "Second", "Third"):
        b.api("post", "/records/ticket", json={"subject": subject})
    html = text(b.get(f"/board/{pipeline['id']}"))
    assert "3" in visible_text(_column(html, new)).split("·")[0]
    assert html.count('class="kanban-card') == 2
    more = re.search(r'hx-get="([^"]+)" hx-target="#cards-' + new, html).group(1).replace("&amp;", "&")

    response = b.client.get(more, headers={"HX-Request": "true"})
    assert response.status_code == 200
    part = text(response)
    assert part.count('class="kanban-card') == 1 and "First" in part  # newest first: the oldest comes last
    assert f'<div class="more" id="more-{new}" hx-swap-oob="true"></div>' in part

    # Without htmx the same address is a page of its own.
    assert "<html" in text(b.client.get(more))


def test_the_vendored_sortable_library_is_there_with_its_licence() -> None:
    vendor = STATIC / "vendor" / "sortable"
    assert (vendor / "Sortable.min.js").read_text().startswith("/*! Sortable 1.15")
    assert (
        "MIT" in (vendor / "LICENSE").read_text()
        or "Permission is hereby granted" in (vendor / "LICENSE").read_text()
    )
    assert "SortableJS" in (vendor / "VERSION").read_text()
    script = (STATIC / "twofold.js").read_text()
    assert "Sortable.create" in script and "htmx.ajax" in script and "409" in script


def test_a_custom_money_field_is_what_the_board_sums(app: Flask) -> None:
    b = owner_browser(app, "sumco", "example")
    added = b.api("post", "/entity-types/ticket/fields", json={"name": "value", "type": "money"})
    assert added.status_code == 201
    for subject, value in (("One", "10.25"), ("Two", "5"), ("Three", None)):
        b.api("post", "/records/ticket", json={"subject": subject, "value": value})
    pipeline = _pipeline(b, "support")
    html = text(b.get(f"/board/{pipeline['id']}"))
    assert "3 · 15.25" in visible_text(_column(html, pipeline["stages"][0]["id"]))
    assert "10.25" in visible_text(html)  # on the card
