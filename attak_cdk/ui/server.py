"""Serves the UI on 127.0.0.1 with uvicorn until Ctrl-C.

The listening socket is opened here, before uvicorn starts, so a port that is taken is
an ``AttakError`` with a way out rather than a log line and an exit, and the port chosen
for ``--port`` left out (a free one) is known before the address is printed.
"""

from __future__ import annotations

import errno
import socket
import webbrowser
from collections.abc import Callable
from pathlib import Path

import uvicorn

from ..errors import AttakError
from ..live.connection import Connection
from .app import create_app

HOST = "127.0.0.1"
"""Only this machine: the page runs the user's handlers on request."""


def listen(port: int | None) -> socket.socket:
    """A socket listening on ``HOST``: on ``port``, or on a free one when ``None``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Lets a restarted UI take its port back while the old connections wind down.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port or 0))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AttakError(
                f"port {port} is already in use on {HOST}: stop what is using it, choose "
                "another with --port N, or leave --port out to use a free one"
            ) from None
        if exc.errno == errno.EACCES:
            raise AttakError(
                f"not allowed to listen on port {port} on {HOST} (ports below 1024 need "
                "administrator rights): choose one from 1024 with --port N"
            ) from None
        raise AttakError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, telling us once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_started()


def serve(
    path: str | Path,
    *,
    port: int | None = None,
    open_browser: bool = True,
    announce: Callable[[str], None] = print,
    connection: Connection | None = None,
    stack_name: str | None = None,
    env_file: Path | None = None,
) -> None:
    """Serve the UI for the topology at ``path`` until Ctrl-C; ``announce`` gets the URL.

    ``connection`` and ``stack_name`` say where its live view looks for the deployment;
    ``env_file`` gives its runs the values the topology keeps in AWS.
    """
    app = create_app(path, connection, stack_name, env_file)
    sock = listen(port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/"

    def started() -> None:
        announce(url)
        if open_browser:
            webbrowser.open(url)

    # Open event streams are given two seconds to finish after Ctrl-C, then cut.
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    try:
        _Server(config, started).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn has shut down cleanly and passes the Ctrl-C on: that is the way out.
        pass
    finally:
        sock.close()
