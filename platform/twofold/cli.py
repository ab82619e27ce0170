"""Command-line entry points: ``twofold <command>`` and the same under ``flask``.

``twofold dev`` is what ``make run`` starts; ``twofold worker`` and ``twofold scheduler``
are the production processes beside gunicorn.
"""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from twofold.db import db


def register(app: Flask) -> None:
    app.cli.add_command(tenants_group)
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)


@click.group("tenants", help="Tenant manifests (demo tenants as code).")
def tenants_group() -> None:
    pass


@tenants_group.command("apply", help="Create or update tenants from TOML manifests.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def tenants_apply(paths: tuple[str, ...]) -> None:
    from twofold import manifests

    for path in paths or ("tenants",):
        for applied in manifests.apply_path(path):
            click.echo(f"tenant {applied.slug}: {applied.summary}")


@click.command("worker", help="Run an RQ worker (with RQ's scheduler for delayed jobs).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    from rq import Worker

    from twofold.jobs import queue
    from twofold.redis_conn import get_redis

    queues = [queue(name) for name in ("default", "mail")]
    Worker(queues, connection=get_redis()).work(with_scheduler=True, burst=burst)


@click.command("scheduler", help="Run RQ's cron scheduler for the periodic jobs.")
def scheduler() -> None:
    from twofold import periodic
    from twofold.redis_conn import get_redis

    periodic.build_scheduler(get_redis()).start()


def _create_app() -> Flask:
    from twofold.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Twofold CRM."""


@main.command("dev", help="Run web, worker and scheduler on the embedded default.")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int)
def dev(port: int) -> None:
    from twofold import devserver

    sys.exit(devserver.run(port=port, app=current_app._get_current_object()))  # type: ignore[attr-defined]


__all__ = ["db", "main", "register"]
