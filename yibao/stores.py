"""Where the workbench and the CLI open what they read and write: the graph backend and the
leads ledger (线索台账), one factory each.

Both follow the settings the same way: the explicit ``backend`` argument, else
``settings.backend`` (``YIBAO_BACKEND``), else the embedded store. This module sits above both
layers, so the backends never construct a ledger and the ledgers never construct a backend.
"""

from __future__ import annotations

from pathlib import Path

from backends.base import GraphBackend
from yibao.errors import SettingsError
from yibao.leads.ledger import LeadLedger
from yibao.leads.seal import SealOptions
from yibao.settings import Settings

__all__ = ["open_backend", "open_ledger"]


def open_backend(settings: Settings | None = None, backend: str | None = None) -> GraphBackend:
    """The backend named by ``backend``, else by ``settings.backend`` (``YIBAO_BACKEND``), else
    the embedded store; ``settings`` default to :meth:`Settings.from_env`.

    The Neo4j backend connects at once and fails within a few seconds with
    :class:`~yibao.errors.BackendUnavailableError` (server absent; the message names
    ``NEO4J_URI`` and the embedded store) or :class:`~yibao.errors.BackendAuthError`.
    """
    settings = settings or Settings.from_env()
    chosen = backend or settings.backend or "embedded"
    if chosen == "embedded":
        from backends.embedded import EmbeddedBackend

        return EmbeddedBackend(settings.db, memory_limit=settings.memory_limit,
                               threads=settings.threads)
    if chosen == "neo4j":
        from backends.neo4j import Neo4jBackend

        return Neo4jBackend.connect(settings)
    raise SettingsError(f"backend {chosen!r} is not known: use 'embedded' or 'neo4j' "
                        "(YIBAO_BACKEND)")


def open_ledger(settings: Settings | None = None,
                backend: str | GraphBackend | None = None, *,
                path: Path | None = None) -> LeadLedger:
    """The leads ledger of ``backend``, else of ``settings.backend`` (``YIBAO_BACKEND``), else
    the embedded one.

    * embedded: a SQLite file, ``path``, else ``settings.leads_path`` (``YIBAO_LEADS``, default
      ``leads.sqlite`` beside the store; beside an open embedded backend's store);
    * neo4j: ``(:Lead)``/``(:LeadEvent)`` nodes on the server. Given an open Neo4j backend the
      ledger shares its connection (close the backend, not the ledger); by name it opens its
      own, which :meth:`LeadLedger.close` closes.
    """
    from yibao.leads.neo4j_ledger import Neo4jLedger
    from yibao.leads.sqlite_ledger import SqliteLedger

    if backend is not None and not isinstance(backend, str):
        from backends.embedded import EmbeddedBackend
        from backends.neo4j import Neo4jBackend

        if isinstance(backend, EmbeddedBackend):
            return SqliteLedger(path or backend.db.with_name("leads.sqlite"))
        if isinstance(backend, Neo4jBackend):
            return Neo4jLedger(backend.runner)
        backend.require("leads")
        raise SettingsError(f"the {backend.name} backend keeps no leads ledger")
    settings = settings or Settings.from_env()
    chosen = backend or settings.backend or "embedded"
    if chosen == "embedded":
        return SqliteLedger(path or settings.leads_path,
                            seal=SealOptions.from_settings(settings))
    if chosen == "neo4j":
        from queries.runner import QueryRunner

        server = open_backend(settings, "neo4j")
        runner = server.runner  # type: ignore[attr-defined]
        assert isinstance(runner, QueryRunner)
        return Neo4jLedger(runner, driver=runner.driver,
                           seal=SealOptions.from_settings(settings, audit=False))
    raise SettingsError(f"backend {chosen!r} is not known: use 'embedded' or 'neo4j' "
                        "(YIBAO_BACKEND)")
