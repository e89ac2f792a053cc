"""A real `hnce serve` of a test's own, on loopback, over one database, started with the
options and environment the test needs (the shared remote server of conftest takes none);
started and stopped by the same helpers as that one (conftest.start_serve, stop_serve)."""

from __future__ import annotations

from pathlib import Path

from conftest import free_port, serve_env, start_serve, stop_serve


class Server:
    """`hnce serve ARGS` over `db_url` on 127.0.0.1, with config and data folders under `folder`
    (its own host: e.g. its own certificate key file) and `env` added; `stop()` ends it."""

    def __init__(self, db_url: str, folder: Path, *args: str, env: dict[str, str] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.log = folder / "serve.log"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        proc = start_serve(serve_env(db_url, folder, env), port, self.log, *args)
        if proc is None:
            raise RuntimeError("hnce serve did not come up:\n" + self.log.read_text("utf-8", "replace")[-3000:])
        self.proc = proc

    def stop(self) -> None:
        stop_serve(self.proc)
