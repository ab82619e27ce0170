"""Command-line entry points: ``twofold <command>`` and the same under ``flask``.

``twofold dev`` is what ``make run`` starts; ``twofold worker`` and ``twofold scheduler``
are the production processes beside gunicorn.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from twofold.db import db


# The groups are AppGroups so that their commands run in an app context however they are
# invoked: under ``twofold``/``flask`` (which push one) or from ``app.test_cli_runner()``.
def register(app: Flask) -> None:
    app.cli.add_command(tenants_group)
    app.cli.add_command(packs_group)
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)


@click.group("tenants", cls=AppGroup, help="Tenant manifests (demo tenants as code).")
def tenants_group() -> None:
    pass


@tenants_group.command("apply", help="Create or update tenants from TOML manifests.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def tenants_apply(paths: tuple[str, ...]) -> None:
    from twofold import manifests

    for path in paths or ("tenants",):
        for applied in manifests.apply_path(path):
            click.echo(f"tenant {applied.slug}: {applied.summary}")


@click.group("packs", cls=AppGroup, help="Installed packs and which of them a tenant has enabled.")
def packs_group() -> None:
    pass


@contextmanager
def _as_platform(slug: str) -> Iterator[None]:
    """Act in the tenant ``slug`` with the platform's rights; commit, or roll back on error."""
    from twofold.auth.permissions import SYSTEM, acting_as
    from twofold.packs.service import UnknownPack
    from twofold.plugins import PluginFailed
    from twofold.tenancy.models import Tenant
    from twofold.tenancy.scope import tenant_scope

    tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"no tenant '{slug}'")
    try:
        with tenant_scope(tenant.id), acting_as(SYSTEM):
            yield
            db.session.commit()
    except UnknownPack as exc:
        db.session.rollback()
        installed = ", ".join(sorted(_installed())) or "none"
        raise click.ClickException(f"no pack '{exc}' is installed (installed: {installed})") from exc
    except PluginFailed as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc


def _installed() -> dict:
    from twofold.plugins import plugins

    return plugins().packs()


@packs_group.command("list", help="List installed packs; with --tenant, whether it has each enabled.")
@click.option("--tenant", "slug", help="The tenant's slug.")
def packs_list(slug: str | None) -> None:
    from twofold.packs import service

    if not _installed():
        click.echo("no packs installed" + (" (safe mode)" if current_app.config.get("SAFE_MODE") else ""))
        return
    if slug is None:
        for name, info in sorted(_installed().items()):
            click.echo(f"{name:<16} {info.label}")
        return
    with _as_platform(slug):
        for state in service.states():
            mark = "enabled" if state.enabled else "disabled"
            click.echo(f"{state.info.name:<16} {mark:<9} {state.info.label}")


@packs_group.command("enable", help="Enable packs for a tenant (seeds their defaults the first time).")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.argument("names", nargs=-1, required=True)
def packs_enable(slug: str, names: tuple[str, ...]) -> None:
    from twofold.packs import service

    with _as_platform(slug):
        for name in names:
            service.enable(name)
    for name in names:
        click.echo(f"{slug}: pack {name} enabled")


@packs_group.command("disable", help="Disable packs for a tenant: their data is hidden and kept.")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.argument("names", nargs=-1, required=True)
def packs_disable(slug: str, names: tuple[str, ...]) -> None:
    from twofold.packs import service

    with _as_platform(slug):
        for name in names:
            service.disable(name)
    for name in names:
        click.echo(f"{slug}: pack {name} disabled")


# In priority order: a worker takes from the first queue that has a job. Events and rule
# jobs are quick and time-sensitive; an import on `default` may run for minutes; webhook
# deliveries go last, each may wait seconds on someone else's server.
WORKER_QUEUES = ("events", "automations", "default", "mail", "webhooks")


@click.command("worker", help="Run an RQ worker (with RQ's scheduler for delayed jobs).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--queue", "names", multiple=True, type=click.Choice(WORKER_QUEUES),
              help="Serve only these queues (repeatable), e.g. a worker dedicated to automations.")
@click.option("--fork", is_flag=True, help="Fork a work horse per job (RQ's default) to isolate each job.")
def worker(burst: bool, names: tuple[str, ...], fork: bool) -> None:
    from rq import SimpleWorker, Worker

    from twofold.jobs import queue
    from twofold.redis_conn import get_redis

    queues = [queue(name) for name in names or WORKER_QUEUES]
    # Jobs run in the worker process by default: a twofold job is a few milliseconds of
    # database work, and a horse forked per job pays for a new database connection, cold
    # SQLAlchemy statement caches and re-imports every time (3x the job itself, measured by
    # benchmarks/automation_throughput.py). run_job restores tenant, actor and session per job
    # and cleans them up after; job timeouts still hold (SIGALRM). --fork isolates each job.
    worker_class = Worker if fork else SimpleWorker
    worker_class(queues, connection=get_redis()).work(with_scheduler=True, burst=burst)


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
