"""A long-running engine process that answers JSON requests, one line each way.

Some engines cost more to start than to answer (the Kyverno CLI spends about a second of CPU
initialising before it evaluates anything). Their servers (``tools/engines/<name>-server``) read
one JSON request per line on stdin and write one JSON response per line on stdout, in order.
`EngineServer` keeps one such process per Python process: started on first use, restarted when
it has died, closed when Python exits, and shared safely between threads (one request at a
time).
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import subprocess
import tempfile
import threading
from typing import IO, Any

from substrate.engines import EngineFailedError, binary


class EngineServer:
    """The server of engine ``name`` (build/engines/<name>), started lazily."""

    def __init__(self, name: str, *, timeout: float = 300) -> None:
        self.name = name
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._owner = 0
        atexit.register(self.close)

    def request(self, payload: Any) -> Any:
        """The engine's response to ``payload``; EngineFailedError when the process dies, hangs
        past the timeout or answers something that is not JSON (the next request restarts it)."""
        line = json.dumps(payload, separators=(",", ":"))
        if "\n" in line:  # json.dumps escapes newlines inside strings; never expected
            raise ValueError("a request must serialise to one line")
        with self._lock:
            process = self._running()
            try:
                assert process.stdin is not None
                process.stdin.write(line + "\n")
                process.stdin.flush()
                answer = self._read(process)
            except (OSError, EngineFailedError) as err:
                diagnosis = self._stop()
                raise EngineFailedError(f"{self.name} failed: {err}\n{diagnosis}") from err
        try:
            return json.loads(answer)
        except json.JSONDecodeError as err:
            raise EngineFailedError(f"{self.name} answered non-JSON: {answer[:2000]!r}") from err

    def close(self) -> None:
        """Stop the process (it exits when its stdin closes); safe to call more than once."""
        with self._lock:
            self._stop()

    @property
    def pid(self) -> int | None:
        """The running process's id, if one is running (for tests and diagnostics)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def _running(self) -> subprocess.Popen[str]:
        process = self._process
        if process is not None and process.poll() is None and self._owner == os.getpid():
            return process
        self._stop()
        # Lives as long as the process (closed in _stop): no context manager fits.
        self._stderr = tempfile.TemporaryFile(prefix=f"substrate-{self.name}-")  # noqa: SIM115
        self._process = subprocess.Popen(
            [str(binary(self.name))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1 << 16,
        )
        self._owner = os.getpid()
        return self._process

    def _read(self, process: subprocess.Popen[str]) -> str:
        """One response line. The server writes exactly one line per request and then waits,
        so nothing is left buffered between requests and select() on the pipe is reliable."""
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(self.timeout):
                raise EngineFailedError(f"no answer within {self.timeout} s")
        answer = process.stdout.readline()
        if not answer.endswith("\n"):
            raise EngineFailedError(f"the process exited (status {process.wait()})")
        return answer

    def _stop(self) -> str:
        """Stop the process if this Python process started it; return the tail of its stderr."""
        process, self._process = self._process, None
        if process is not None and self._owner == os.getpid():
            for stream in (process.stdin, process.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        diagnosis = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            diagnosis = self._stderr.read()[-4000:].decode(errors="replace")
            self._stderr.close()
            self._stderr = None
        return diagnosis
