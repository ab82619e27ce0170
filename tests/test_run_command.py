"""The README's first command works: ``twofold dev`` (what ``make run`` starts) migrates,
seeds the demo tenants and serves web, worker and scheduler on the embedded default."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "twofold dev exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def test_the_dev_command_serves_the_demo_tenants(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["TWOFOLD_INSTANCE"] = str(tmp_path)
    log = (tmp_path / "dev.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "twofold"), "dev", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = _wait_for(f"{base}/healthz", process)
        assert health["database"]["status"] == "ok" and health["redis"]["status"] == "ok"

        output = (tmp_path / "dev.log").read_text()
        login = re.search(r"login (\S+@demo-shop\S+) / (\S+)", output)
        assert login, "the demo logins are printed"
        assert f"{base}/" in output

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        html = opener.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        form = urllib.parse.urlencode(
            {"email": login.group(1), "password": login.group(2), "csrf_token": token}
        ).encode()
        home = opener.open(f"{base}/login", data=form)
        assert home.url.endswith("/t/demo-shop/")
        assert "Demo Shop" in home.read().decode()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    assert process.returncode == 0, (tmp_path / "dev.log").read_text()[-3000:]
