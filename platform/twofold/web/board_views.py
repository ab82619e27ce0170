"""The kanban board of a pipeline: stages as columns, cards moved by drag and drop.

A drop posts (htmx) to :func:`move`, which calls :func:`twofold.pipelines.service.move`;
the answer is the card (and, out of band, every column's totals). A refused move answers
409 with the card showing the unmet requirements, and the page puts the card back. Each
card also has a plain "Move…" form, for keyboards and for pages without JavaScript.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from twofold.db import db
from twofold.entities import service as records
from twofold.extensions import htmx
from twofold.packs import registry
from twofold.pipelines import board as boards
from twofold.pipelines import service as pipelines
from twofold.pipelines.service import MoveRefused
from twofold.tenancy.resolve import tenant_blueprint
from twofold.web.filters import money

bp = tenant_blueprint("board", __name__, url_prefix="/board")

PAGE_SIZE = 20  # cards per column before "load more"


def _card_values(board: boards.Board, cards: list) -> dict[uuid.UUID, str]:
    """The amount shown on each card, formatted."""
    if board.amount_field is None:
        return {}
    out = {}
    for record in cards:
        value = records.values(board.entity_type, record).get(board.amount_field.name)
        if value not in (None, ""):
            out[record.id] = money(value)
    return out


def _page(pipeline_id: uuid.UUID, *, refused: dict | None = None) -> str:
    board = boards.board(pipeline_id, limit=PAGE_SIZE)
    cards = [r for c in board.columns for r in c.cards]
    return render_template(
        "board/show.html", b=board, amounts=_card_values(board, cards), refused=refused or {},
        stages=[c.stage for c in board.columns],
        others=[p for p in pipelines.pipelines_for(board.pipeline.entity_type) if p.id != board.pipeline.id],
    )


@bp.get("/")
def index() -> Any:
    return redirect(url_for("pipelines.settings"))


@bp.get("/<uuid:pipeline_id>")
def show(pipeline_id: uuid.UUID) -> Any:
    return _page(pipeline_id)


@bp.get("/<uuid:pipeline_id>/stages/<uuid:stage_id>/cards")
def more(pipeline_id: uuid.UUID, stage_id: uuid.UUID) -> Any:
    pipeline = pipelines.get_pipeline(pipeline_id)
    stage = boards.stage_of(pipeline, stage_id)
    cards, cursor = boards.cards(pipeline, stage, limit=PAGE_SIZE, cursor=request.args.get("cursor"))
    board = boards.Board(pipeline, registry.entity_type(pipeline.entity_type),
                         boards.amount_field(registry.entity_type(pipeline.entity_type)), [])
    template = "board/_more.html" if htmx else "board/column.html"
    return render_template(
        template, b=board, stage=stage, cards=cards, next_cursor=cursor, amounts=_card_values(board, cards),
        stages=pipelines.stages(pipeline), refused={},
    )


@bp.post("/<uuid:pipeline_id>/cards/<uuid:record_id>/move")
def move(pipeline_id: uuid.UUID, record_id: uuid.UUID) -> Any:
    pipeline = pipelines.get_pipeline(pipeline_id)
    form = request.form
    try:
        pipelines.move(
            pipeline.entity_type, record_id, form.get("stage", ""),
            reason=(form.get("reason") or "").strip() or None, pipeline_id=pipeline.id,
        )
    except MoveRefused as exc:
        db.session.rollback()
        refused = {record_id: {"unmet": exc.unmet, "form": form}}
        if htmx:
            return _card(pipeline, record_id, refused=refused, with_totals=False), 409
        return _page(pipeline_id, refused=refused), 409
    db.session.commit()
    if htmx:
        return _card(pipeline, record_id, refused={}, with_totals=True)
    record = records.get(pipeline.entity_type, record_id)
    flash(f"Moved “{record.title or record.id}”.")
    return redirect(url_for(".show", pipeline_id=pipeline_id) + f"#card-{record_id}")


def _card(pipeline: Any, record_id: uuid.UUID, *, refused: dict, with_totals: bool) -> str:
    etype = registry.entity_type(pipeline.entity_type)
    record = records.get(pipeline.entity_type, record_id)
    stage_rows = pipelines.stages(pipeline)
    board = boards.Board(pipeline, etype, boards.amount_field(etype), [])
    totals = boards.totals(pipeline, etype) if with_totals else {}
    return render_template(
        "board/_card_response.html", b=board, r=record, amounts=_card_values(board, [record]),
        stages=stage_rows, refused=refused, totals=totals, with_totals=with_totals,
        empty=boards.Totals(0, None),
    )
