"""Run the `hnce` console script in a fresh process without paying Python's and
the libraries' start-up each time (≈ 1 s of CPU per run, hundreds of runs).

A fork server ("zygote") per test process imports hnce and its libraries once
and then, for each `run()`, forks a child that is what `hnce ARGS` would be: its
own process with the caller's environment, working directory, argv and stdin,
stdout and stderr (passed as file descriptors over a Unix socket), running the
console script's `main()` and exiting with its exit code. Nothing runs in the
zygote besides imports, so no state (clock, engine caches, profiles) carries from
one run to the next; each child starts from the same freshly imported state.

Tests about the process itself (start-up time, `--help` before typer loads, a
terminal, `hnce serve`) start the real console script with subprocess instead.
HNCE_TEST_NO_FORKSERVER=1 makes `Setup.run` do that for every run too.
"""

from __future__ import annotations

import array
import contextlib
import io
import json
import locale
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# --- the zygote (runs as `python hnce_forkserver.py SOCKET`) ----------------------

_PRELOAD = (
    # what nearly every command loads; importing is all the zygote does
    "hnce_cli.__main__", "hnce_cli.cli", "hnce_cli.backend", "hnce_cli.backend.local",
    "hnce_cli.backend.remote", "hnce_cli.models", "hnce_cli.schemas", "hnce_cli.db",
    "hnce_cli.render", "hnce_cli.errors", "hnce_cli.settings",
    "sqlalchemy", "sqlmodel", "pydantic", "httpx", "rich.console", "rich.table",
    "argon2", "psycopg",
)


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _child(conn: socket.socket, listener: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become `hnce ARGS` and exit with its code."""
    code = 1
    try:
        listener.close()
        conn.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = [request["argv0"], *request["args"]]
        from hnce_cli.__main__ import main

        try:
            result = main()
            code = 0 if result is None else int(result)
        except SystemExit as exc:  # what the interpreter does with sys.exit(...)
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        with contextlib.suppress(Exception):
            threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads
        import atexit

        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code & 0xFF if code >= 0 else 1)


def cheap_password_hashing() -> None:
    """argon2id at the smallest cost, as the `fast_password_hashing` fixture does
    in-process: hashes carry their parameters, so nothing else changes. Test code
    only (hnce has no switch for it); the plain-subprocess tests keep production's
    cost and tests/test_harness.py checks that cost."""
    from argon2 import PasswordHasher

    from hnce_cli.services import security

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._hasher = lambda: cheap  # type: ignore[assignment]


def serve(path: str) -> None:
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    cheap_password_hashing()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    parent = os.getppid()
    listener.settimeout(5)
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if os.getppid() != parent:  # the test process died without stopping us
                return
            continue
        conn.settimeout(None)
        with conn:
            try:
                size = struct.unpack("!I", _recv_exact(conn, 4))[0]
                fds = array.array("i")
                msg, ancdata, _, _ = conn.recvmsg(size, socket.CMSG_SPACE(3 * fds.itemsize))
                while len(msg) < size:
                    msg += _recv_exact(conn, size - len(msg))
                for level, kind, data in ancdata:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
                request = json.loads(msg)
            except (EOFError, OSError, ValueError):
                continue
            if request.get("stop"):
                return
            pid = os.fork()
            if pid == 0:
                _child(conn, listener, request, list(fds))
            for fd in fds:
                os.close(fd)
            with contextlib.suppress(OSError):
                conn.sendall(f"{pid}\n".encode())
            _, status = os.waitpid(pid, 0)
            with contextlib.suppress(OSError):
                conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())


# --- the client (in the test process) ------------------------------------------------


class ForkServer:
    """One zygote; `run` has subprocess.run's answer for `hnce ARGS`."""

    def __init__(self, argv0: str) -> None:
        self.argv0 = argv0
        self.folder = tempfile.mkdtemp(prefix="hnce-zygote-")
        self.path = os.path.join(self.folder, "sock")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, self.path], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=None, cwd=os.getcwd(),
            env={k: v for k, v in os.environ.items() if not k.startswith("HNCE_")})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("the hnce fork server did not start")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        Path(self.path).unlink(missing_ok=True)
        os.rmdir(self.folder)

    def run(self, args: list[str], *, env: dict[str, str], input: str | None,
            timeout: float) -> subprocess.CompletedProcess[str]:
        if self.proc.poll() is not None:
            raise RuntimeError("the hnce fork server has gone")
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        if input is None:
            in_r, in_w = os.open(os.devnull, os.O_RDONLY), None
        else:
            in_r, in_w = os.pipe()
        request = json.dumps({"argv0": self.argv0, "args": list(args), "env": env,
                              "cwd": os.getcwd()}).encode()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.path)
            conn.sendall(struct.pack("!I", len(request)))
            conn.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                      array.array("i", [in_r, out_w, err_w]))])
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}

        def drain(fd: int) -> None:
            with open(fd, "rb", buffering=0, closefd=True) as f:
                while data := f.read(65536):
                    chunks[fd].append(data)

        readers = [threading.Thread(target=drain, args=(fd,), daemon=True) for fd in (out_r, err_r)]
        for t in readers:
            t.start()
        encoding = locale.getpreferredencoding(False)
        if in_w is not None:
            def feed() -> None:
                with contextlib.suppress(BrokenPipeError), \
                        open(in_w, "wb", buffering=0, closefd=True) as f:
                    f.write(input.encode(encoding))  # type: ignore[union-attr]
            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
        deadline = time.monotonic() + timeout
        reply = b""
        conn.settimeout(timeout)
        pid = 0
        try:
            while reply.count(b"\n") < 2:
                conn.settimeout(max(0.01, deadline - time.monotonic()))
                data = conn.recv(64)
                if not data:
                    raise RuntimeError("the hnce fork server has gone")
                reply += data
                if not pid and b"\n" in reply:
                    pid = int(reply.split(b"\n")[0])
        except TimeoutError:
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            raise subprocess.TimeoutExpired(args, timeout) from None
        finally:
            conn.close()
        returncode = int(reply.split(b"\n")[1])
        for t in readers:
            t.join(max(1.0, deadline - time.monotonic()))

        def text(fd: int) -> str:
            raw = b"".join(chunks[fd])
            return io.TextIOWrapper(io.BytesIO(raw), encoding=encoding, newline=None).read()

        return subprocess.CompletedProcess([self.argv0, *args], returncode,
                                           text(out_r), text(err_r))


def hnce_main(argv0: str, args: list[str]) -> None:
    """`hnce ARGS` with cheap password hashing (how the tests start `hnce serve`)."""
    cheap_password_hashing()
    sys.argv = [argv0, *args]
    from hnce_cli.__main__ import main

    sys.exit(main())


if __name__ == "__main__":
    if sys.argv[1] == "--hnce":
        hnce_main(sys.argv[2], sys.argv[3:])
    serve(sys.argv[1])
