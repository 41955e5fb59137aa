"""One command for one machine: Redis (embedded if need be), web and worker."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from flask import Flask

from escalation.config import Settings
from escalation.embedded_redis import EmbeddedRedis
from escalation.migrate import upgrade

logger = logging.getLogger(__name__)

REDIS_PORT_FILE = "redis.port"
GUNICORN_CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def serve(app: Flask, host: str, port: int) -> int:
    settings: Settings = app.config["SETTINGS"]
    upgrade(settings.database_url)

    redis = None
    env = dict(os.environ)
    if not settings.redis_url:
        redis = EmbeddedRedis(Path(app.instance_path) / "redis", _redis_port(app))
        redis.start()
        env["REDIS_URL"] = redis.url

    web = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", "2",
        "--config", str(GUNICORN_CONFIG),
        "wsgi:app",
    ]  # fmt: skip
    worker = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    children = [_spawn("web", web, env), _spawn("worker", worker, env)]
    print(f"escalation line running at http://{host}:{port} (Ctrl-C stops it)")

    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            child.wait(timeout=30)
        if redis is not None:
            redis.stop()
    failed = [
        child.returncode for child in children if child.returncode not in (0, -15)
    ]
    return 1 if failed and not stopping else 0


def _spawn(
    name: str, command: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    logger.info("starting %s", name)
    return subprocess.Popen(command, env=env)


def _redis_port(app: Flask) -> int:
    """The same port on every start, so a restarted web finds its Redis."""
    path = Path(app.instance_path) / REDIS_PORT_FILE
    if path.exists():
        return int(path.read_text())
    from escalation.embedded_redis import free_port

    port = free_port()
    path.write_text(str(port))
    return port
