"""The baseline for benchmarks/telegram_webhook.py: a bare Flask endpoint that inserts one row.

Served by the same gunicorn, against the same database, so that the ratio measures what
the chatbot's webhook costs beyond "take a POST and write a row".
"""

from __future__ import annotations

import os

from flask import Flask, request
from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine

metadata = MetaData()
rows = Table("bench_bare_rows", metadata, Column("id", Integer, primary_key=True), Column("body", Text))


def create() -> Flask:
    engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_pre_ping=False)
    metadata.create_all(engine)
    app = Flask(__name__)

    @app.post("/bare")
    def bare() -> dict[str, bool]:
        with engine.begin() as conn:
            conn.execute(rows.insert().values(body=request.get_data(as_text=True)))
        return {"ok": True}

    return app
