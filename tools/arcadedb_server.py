"""Start ArcadeDB (from PyPI's ``arcadedb-embedded``) as a Bolt server on a free loopback port.

No Neo4j server build installs from this machine's registries, but ``arcadedb-embedded`` ships
the ArcadeDB server jars, their own Java runtime (``$PKG/jre``) and a Bolt plugin that the
official ``neo4j`` driver talks to (it reports itself as Neo4j 5.26 compatible). The tests and
``benchmarks/backends.py`` use :func:`start_arcadedb`; a developer can run one by hand::

    python -m tools.arcadedb_server /tmp/arcade        # prints the NEO4J_* settings, Ctrl-C stops

The server is a separate process (``java ... com.arcadedb.server.ArcadeDBServer``) with the
database ``graph`` owned by ``root``; :meth:`ArcadeDBServer.stop` ends it by its process id,
:meth:`ArcadeDBServer.kill` kills it hard (the fault tests' "server died mid-load").
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = ["ArcadeDBServer", "arcadedb_package_dir", "free_port", "start_arcadedb"]

DATABASE = "graph"
USER = "root"


def arcadedb_package_dir() -> Path:
    """The installed ``arcadedb_embedded`` package folder (holds ``jars/`` and ``jre/``)."""
    spec = importlib.util.find_spec("arcadedb_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "arcadedb-embedded is not installed: pip install -e '.[dev]' (it is a test "
            "dependency) or set NEO4J_URI to a running Neo4j server"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ArcadeDBServer:
    """A running ArcadeDB server process and how to reach it over Bolt.

    ``password`` is kept out of ``repr``; ``log`` is the server's stdout and stderr.
    """

    uri: str
    password: str = field(repr=False)
    pid: int
    root: Path
    log: Path
    bolt_port: int
    http_port: int
    user: str = USER
    database: str = DATABASE
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def env(self) -> dict[str, str]:
        """The ``NEO4J_*`` settings that point yibao at this server."""
        return {"NEO4J_URI": self.uri, "NEO4J_USER": self.user,
                "NEO4J_PASSWORD": self.password, "NEO4J_DATABASE": self.database}

    def alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server by its pid: SIGTERM (ArcadeDB closes its databases), then SIGKILL."""
        self._signal(signal.SIGTERM)
        if not self._wait(timeout):
            self.kill()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): no shutdown, as when a machine dies."""
        self._signal(signal.SIGKILL)
        self._wait(10.0)

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def _wait(self, timeout: float) -> bool:
        if self._process is not None:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return True
            time.sleep(0.1)
        return False

    def __enter__(self) -> ArcadeDBServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _command(pkg: Path, root: Path, password: str, bolt_port: int, http_port: int,
             heap: str) -> list[str]:
    return [
        str(pkg / "jre" / "bin" / "java"), f"-Xmx{heap}", "-cp", str(pkg / "jars") + "/*",
        f"-Darcadedb.server.rootPath={root}",
        f"-Darcadedb.server.rootPassword={password}",
        f"-Darcadedb.server.defaultDatabases={DATABASE}[{USER}]",
        "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
        "-Darcadedb.bolt.host=127.0.0.1", f"-Darcadedb.bolt.port={bolt_port}",
        f"-Darcadedb.bolt.defaultDatabase={DATABASE}",
        "-Darcadedb.server.httpIncomingHost=127.0.0.1",
        f"-Darcadedb.server.httpIncomingPort={http_port}",
        "com.arcadedb.server.ArcadeDBServer",
    ]


def _answers(uri: str, password: str) -> bool:
    from neo4j import GraphDatabase
    from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

    from queries.runner import query_text

    try:
        with GraphDatabase.driver(uri, auth=(USER, password), connection_timeout=2.0) as driver, \
                driver.session(database=DATABASE) as session:
            ping = query_text("read/ping")
            return bool(session.run(ping).single(strict=True)["one"] == 1)
    except (ServiceUnavailable, SessionExpired, Neo4jError, OSError):
        return False


def start_arcadedb(
    root: Path,
    *,
    password: str | None = None,
    bolt_port: int | None = None,
    heap: str = "1g",
    timeout: float = 90.0,
) -> ArcadeDBServer:
    """Start ArcadeDB with its data under ``root`` and wait until ``RETURN 1`` answers.

    ``password`` is the root password (default: a fresh random one); ``bolt_port`` defaults to a
    free loopback port (pass the old one to restart a server on the same address). Raises
    ``RuntimeError`` with the tail of the server log when it exits or does not answer within
    ``timeout`` seconds.
    """
    pkg = arcadedb_package_dir()
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    password = password or secrets.token_urlsafe(18)
    bolt_port = bolt_port or free_port()
    http_port = free_port()
    log = root / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            _command(pkg, root, password, bolt_port, http_port, heap),
            cwd=root, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent,
        )
    server = ArcadeDBServer(uri=f"bolt://127.0.0.1:{bolt_port}", password=password,
                            pid=proc.pid, root=root, log=log, bolt_port=bolt_port,
                            http_port=http_port, _process=proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ArcadeDB exited with code {proc.returncode} while starting; "
                               f"last lines of {log}:\n{_tail(log)}")
        if _answers(server.uri, password):
            return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"ArcadeDB did not answer on {server.uri} within {timeout:.0f} s; last "
                       f"lines of {log}:\n{_tail(log)}")


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to send SIGTERM when the starting process dies, so an
    interrupted or killed test run never leaves a JVM behind (``PR_SET_PDEATHSIG``)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: list[str] | None = None) -> None:
    """Run a server in the foreground until Ctrl-C; the password goes to ROOT/root_password."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("root", type=Path, help="folder for the server's databases and log")
    parser.add_argument("--port", type=int, default=None, help="Bolt port (default: free)")
    parser.add_argument("--heap", default="1g", help="Java heap, e.g. 1g")
    args = parser.parse_args(argv)
    server = start_arcadedb(args.root, bolt_port=args.port, heap=args.heap,
                            password=os.environ.get("NEO4J_PASSWORD"))
    secret = server.root / "root_password"
    secret.touch(mode=0o600)
    secret.write_text(server.password)
    print(f"ArcadeDB (pid {server.pid}) answers on {server.uri}\n"
          f"export NEO4J_URI={server.uri} NEO4J_USER={server.user} "
          f"NEO4J_DATABASE={server.database}\n"
          f'export NEO4J_PASSWORD="$(cat {secret})"', file=sys.stderr)
    try:
        while server.alive():
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
