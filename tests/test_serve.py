"""`make run` and `make demo` as a newcomer runs them: real processes, the
embedded Redis, SQLite in the instance folder, a ticket going to Urgent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from escalation.embedded_redis import free_port

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60
# Settings a developer or CI may have exported; the embedded default must
# not see them.
FOREIGN = ("DATABASE_URL", "REDIS_URL", "TWILIO_AUTH_TOKEN", "PORTAL_WEBHOOK_SECRET",
           "API_TOKEN", "PUBLIC_BASE_URL", "SECRET_KEY")  # fmt: skip


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def wait_for_health(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "the service exited during startup"
        try:
            if requests.get(f"{url}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the service did not answer within {STARTUP_SECONDS} s")


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_serve_then_demo_shows_a_ticket_becoming_urgent(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), BUSINESS_HOURS="always")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        flask("serve", "--port", str(port)),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_health(url, server)
        redis_port = int((tmp_path / "instance" / "redis.port").read_text())

        demo = subprocess.run(
            flask("demo", "--url", url),
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

        assert demo.returncode == 0, demo.stdout + demo.stderr + _log(server)
        assert "High -> Urgent" in demo.stdout
        assert "Uw oproep is geregistreerd bij ticket" in demo.stdout
        assert (tmp_path / "instance" / "escalation.sqlite3").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)

    assert server.returncode == 0, output
    assert port_is_closed(port) and port_is_closed(redis_port), "left running"
    # The queue survives a restart: Redis kept an append-only file.
    assert list((tmp_path / "instance" / "redis").glob("appendonly*"))


def _log(server: subprocess.Popen) -> str:
    server.send_signal(signal.SIGTERM)
    output, _ = server.communicate(timeout=60)
    return "\n--- service log ---\n" + output
