"""A real `hnce serve` of a test's own, on loopback, over one database, started with the
options the test needs (the shared remote server of conftest takes none)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
from conftest import free_port, serve_command


class Server:
    """`hnce serve ARGS` over `db_url` on 127.0.0.1; `stop()` ends it."""

    def __init__(self, db_url: str, folder: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_")}
        env.update({"HNCE_DATABASE_URL": db_url, "HNCE_CONFIG_DIR": str(folder / "config"),
                    "HNCE_DATA_DIR": str(folder / "data")})
        self.log = folder / "serve.log"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([*serve_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                                          *args], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("hnce serve did not come up:\n" + self.log.read_text("utf-8", "replace")[-3000:])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
