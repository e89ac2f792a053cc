"""A real `hnce serve` of a test's own, on loopback, over one database, started with the
options and environment the test needs (the shared remote server of conftest takes none);
started and stopped by the same helpers as that one (conftest.start_serve, stop_serve)."""

from __future__ import annotations

from pathlib import Path

from conftest import free_port, serve_env, start_serve, stop_serve


class Server:
    """`hnce serve ARGS` over `db_url` on 127.0.0.1, with config and data folders under `folder`
    (its own host: e.g. its own certificate key file) and `env` added; `stop()` ends it.
    `port`: one the test chose (to name the server's own address in `env`); `errors`: keep its
    standard error apart (`stderr()`), when what it says at start is under test."""

    def __init__(self, db_url: str, folder: Path, *args: str, env: dict[str, str] | None = None,
                 port: int | None = None, errors: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.log = folder / "serve.log"
        self.errors = folder / "serve.err" if errors else None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        proc = start_serve(serve_env(db_url, folder, env), self.port, self.log, *args, errors=self.errors)
        if proc is None:
            said = self.log.read_text("utf-8", "replace") + (self.stderr() if self.errors else "")
            raise RuntimeError("hnce serve did not come up:\n" + said[-3000:])
        self.proc = proc

    def stderr(self) -> str:
        """What the server wrote on its standard error (started with `errors=True`)."""
        assert self.errors is not None, "started without errors=True"
        return self.errors.read_text("utf-8", "replace")

    def rss_kib(self) -> int:
        """The server process's resident memory, as the kernel counts it (/proc/PID/status)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        stop_serve(self.proc)
