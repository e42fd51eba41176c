"""The embedded leads ledger: a SQLite file beside the DuckDB store (``leads.sqlite``).

Why SQLite and not the DuckDB store itself: the workbench keeps a read-only DuckDB connection
open on the store, and DuckDB allows only one writing process per file (and none while another
process has it open for writing), whereas many investigators write leads at once from their
workbench sessions and the CLI. SQLite in WAL mode gives transactional writes from many
processes, readers that never block, and a busy timeout instead of a lock error; the Python
standard library ships it.

Tables: ``leads`` (one row per lead; amounts in integer fen, dispositions as a JSON list),
``lead_links`` (lead, kind, code), ``lead_events`` (the audit trail, append-only: triggers
abort any UPDATE or DELETE on it, and on ``leads`` any DELETE) and ``lead_counters`` (the
last lead number per year). Every write runs in ``BEGIN IMMEDIATE`` (the database's one write
lock, taken before reading) and updates a lead with ``UPDATE … WHERE lead_id = ? AND version
= ?``; ``UNIQUE (lead_id, version)`` on the events makes a second event for one version
impossible even for a writer that skips the ledger's checks.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from yibao.errors import LeadNotFoundError, StoreError
from yibao.leads.audit import GENESIS, canonical_json
from yibao.leads.ledger import Clock, LeadLedger, LedgerTransaction
from yibao.leads.lifecycle import STATES
from yibao.leads.model import (
    LINK_KINDS,
    RISKS,
    SOURCES,
    FieldChange,
    Lead,
    LeadEvent,
    LeadFilter,
    Source,
    fen_to_yuan,
    region_prefix,
    yuan_to_fen,
)
from yibao.leads.seal import SealOptions

__all__ = ["SCHEMA_VERSION", "SqliteLedger"]

SCHEMA_VERSION = 1
"""``PRAGMA user_version`` of a ledger file this code writes."""

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another one to commit before giving up."""


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS leads (
    lead_id TEXT PRIMARY KEY,
    source TEXT NOT NULL CHECK (source IN ({_in(list(SOURCES))})),
    source_ref TEXT,
    title TEXT NOT NULL CHECK (title <> ''),
    summary TEXT NOT NULL,
    violation TEXT NOT NULL,
    risk TEXT NOT NULL CHECK (risk IN ({_in(list(RISKS))})),
    risk_score REAL,
    state TEXT NOT NULL CHECK (state IN ({_in(list(STATES))})),
    owner TEXT,
    region TEXT,
    due TEXT,
    amount_involved_fen INTEGER NOT NULL CHECK (amount_involved_fen >= 0),
    amount_recovered_fen INTEGER NOT NULL CHECK (amount_recovered_fen >= 0),
    dispositions TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (source, source_ref)
);
CREATE INDEX IF NOT EXISTS leads_state ON leads (state, due);
CREATE TABLE IF NOT EXISTS lead_links (
    lead_id TEXT NOT NULL REFERENCES leads (lead_id),
    kind TEXT NOT NULL CHECK (kind IN ({_in(LINK_KINDS)})),
    code TEXT NOT NULL,
    PRIMARY KEY (lead_id, kind, code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lead_links_code ON lead_links (kind, code);
CREATE TABLE IF NOT EXISTS lead_events (
    seq INTEGER PRIMARY KEY,
    lead_id TEXT NOT NULL REFERENCES leads (lead_id),
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    changes TEXT NOT NULL,
    note TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (lead_id, version)
);
CREATE TABLE IF NOT EXISTS lead_counters (year INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS lead_events_no_update BEFORE UPDATE ON lead_events
BEGIN
    SELECT RAISE(ABORT, 'lead_events is append-only: a recorded change cannot be edited');
END;
CREATE TRIGGER IF NOT EXISTS lead_events_no_delete BEFORE DELETE ON lead_events
BEGIN
    SELECT RAISE(ABORT, 'lead_events is append-only: a recorded change cannot be deleted');
END;
CREATE TRIGGER IF NOT EXISTS leads_no_delete BEFORE DELETE ON leads
BEGIN
    SELECT RAISE(ABORT, 'leads are never deleted: close the lead (已结案) instead');
END;
"""

_LEAD_COLUMNS = (
    "lead_id, source, source_ref, title, summary, violation, risk, risk_score, state, owner, "
    "region, due, amount_involved_fen, amount_recovered_fen, dispositions, version, "
    "created_at, created_by, updated_at, updated_by"
)
_EVENT_COLUMNS = ("seq, lead_id, version, at, by, action, from_state, to_state, changes, note, "
                  "prev_hash, hash")

_SELECT = f"""SELECT {_LEAD_COLUMNS} FROM leads l
WHERE (:states IS NULL OR l.state IN (SELECT value FROM json_each(:states)))
  AND (:sources IS NULL OR l.source IN (SELECT value FROM json_each(:sources)))
  AND (:risks IS NULL OR l.risk IN (SELECT value FROM json_each(:risks)))
  AND (:owner IS NULL OR l.owner = :owner)
  AND (:region IS NULL OR substr(l.region, 1, length(:region)) = :region)
  AND (:violation IS NULL OR l.violation = :violation)
  AND (:kind IS NULL OR EXISTS (SELECT 1 FROM lead_links k WHERE k.lead_id = l.lead_id
                                AND k.kind = :kind AND k.code = :code))
  AND (:text IS NULL OR instr(lower(l.lead_id || ' ' || l.title || ' ' || l.summary), :text) > 0)
  AND (:overdue IS NULL OR (l.due IS NOT NULL AND l.due < :today AND l.state <> 'closed')
                           = :overdue)
  AND (:escalate IS NULL OR (l.due IS NOT NULL AND l.due < :today AND l.state <> 'closed'
                             AND l.risk = 'high') = :escalate)"""


def _lead_row(lead: Lead) -> tuple[Any, ...]:
    return (lead.lead_id, lead.source, lead.source_ref, lead.title, lead.summary,
            lead.violation, lead.risk, lead.risk_score, lead.state, lead.owner, lead.region,
            lead.due.isoformat() if lead.due else None, yuan_to_fen(lead.amount_involved),
            yuan_to_fen(lead.amount_recovered), json.dumps(list(lead.dispositions)),
            lead.version, lead.created_at.isoformat(timespec="microseconds"), lead.created_by,
            lead.updated_at.isoformat(timespec="microseconds"), lead.updated_by)


def _lead_from(row: sqlite3.Row, links: dict[str, list[str]]) -> Lead:
    return Lead(
        lead_id=row["lead_id"], source=row["source"], source_ref=row["source_ref"],
        title=row["title"], summary=row["summary"], violation=row["violation"],
        risk=row["risk"], risk_score=row["risk_score"], state=row["state"],
        owner=row["owner"], region=row["region"],
        due=date.fromisoformat(row["due"]) if row["due"] else None,
        amount_involved=fen_to_yuan(row["amount_involved_fen"]),
        amount_recovered=fen_to_yuan(row["amount_recovered_fen"]),
        dispositions=tuple(json.loads(row["dispositions"])),
        persons=tuple(sorted(links.get("persons", ()))),
        institutions=tuple(sorted(links.get("institutions", ()))),
        practitioners=tuple(sorted(links.get("practitioners", ()))),
        rings=tuple(sorted(links.get("rings", ()))), version=row["version"],
        created_at=datetime.fromisoformat(row["created_at"]), created_by=row["created_by"],
        updated_at=datetime.fromisoformat(row["updated_at"]), updated_by=row["updated_by"])


def _event_row(e: LeadEvent) -> tuple[Any, ...]:
    return (e.seq, e.lead_id, e.version, e.at.isoformat(timespec="microseconds"), e.by,
            e.action, e.from_state, e.to_state,
            canonical_json([[c.field, c.old, c.new] for c in e.changes]), e.note, e.prev_hash,
            e.hash)


def _event_from(row: sqlite3.Row) -> LeadEvent:
    return LeadEvent(
        seq=row["seq"], lead_id=row["lead_id"], version=row["version"],
        at=datetime.fromisoformat(row["at"]), by=row["by"], action=row["action"],
        from_state=row["from_state"], to_state=row["to_state"],
        changes=tuple(FieldChange(f, old, new) for f, old, new in json.loads(row["changes"])),
        note=row["note"], prev_hash=row["prev_hash"], hash=row["hash"])


def _leads(con: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Lead]:
    """Leads from ``leads`` rows, with their links (fetched in one query)."""
    if not rows:
        return []
    links: dict[str, dict[str, list[str]]] = {r["lead_id"]: {} for r in rows}
    cur = con.execute(
        "SELECT lead_id, kind, code FROM lead_links "
        "WHERE lead_id IN (SELECT value FROM json_each(?))", [json.dumps(list(links))])
    for lead_id, kind, code in cur:
        links[lead_id].setdefault(kind, []).append(code)
    return [_lead_from(r, links[r["lead_id"]]) for r in rows]


class _Tx:
    """:class:`~yibao.leads.ledger.LedgerTransaction` on a connection in ``BEGIN IMMEDIATE``."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def lead(self, lead_id: str) -> Lead | None:
        rows = self.con.execute(f"SELECT {_LEAD_COLUMNS} FROM leads WHERE lead_id = ?",
                                [lead_id]).fetchall()
        found = _leads(self.con, rows)
        return found[0] if found else None

    def existing_refs(self, source: Source, refs: Sequence[str]) -> dict[str, str]:
        cur = self.con.execute(
            "SELECT source_ref, lead_id FROM leads WHERE source = ? "
            "AND source_ref IN (SELECT value FROM json_each(?))", [source, json.dumps(list(refs))])
        return {ref: lead_id for ref, lead_id in cur}

    def events_after(self, lead_id: str, version: int) -> list[LeadEvent]:
        cur = self.con.execute(
            f"SELECT {_EVENT_COLUMNS} FROM lead_events WHERE lead_id = ? AND version > ? "
            "ORDER BY seq", [lead_id, version])
        return [_event_from(r) for r in cur]

    def head(self) -> tuple[int, str]:
        row = self.con.execute(
            "SELECT seq, hash FROM lead_events ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def take_numbers(self, year: int, n: int) -> int:
        row = self.con.execute(
            "INSERT INTO lead_counters (year, n) VALUES (?, ?) "
            "ON CONFLICT (year) DO UPDATE SET n = n + excluded.n RETURNING n", [year, n]
        ).fetchone()
        return int(row[0]) - n + 1

    def insert_leads(self, leads: Sequence[Lead]) -> None:
        marks = ", ".join("?" * len(_LEAD_COLUMNS.split(",")))
        self.con.executemany(f"INSERT INTO leads ({_LEAD_COLUMNS}) VALUES ({marks})",
                             [_lead_row(lead) for lead in leads])
        self.con.executemany(
            "INSERT INTO lead_links (lead_id, kind, code) VALUES (?, ?, ?)",
            [(lead.lead_id, kind, code) for lead in leads for kind in LINK_KINDS
             for code in lead.links(kind)])

    def update_lead(self, lead: Lead, expected_version: int) -> bool:
        row = _lead_row(lead)
        cur = self.con.execute(
            "UPDATE leads SET title = ?, summary = ?, violation = ?, risk = ?, risk_score = ?, "
            "state = ?, owner = ?, region = ?, due = ?, amount_involved_fen = ?, "
            "amount_recovered_fen = ?, dispositions = ?, version = ?, updated_at = ?, "
            "updated_by = ? WHERE lead_id = ? AND version = ?",
            [*row[3:16], row[18], row[19], lead.lead_id, expected_version])
        if cur.rowcount != 1:
            return False
        have = {(str(k), str(c)) for k, c in self.con.execute(
            "SELECT kind, code FROM lead_links WHERE lead_id = ?", [lead.lead_id])}
        want = {(kind, code) for kind in LINK_KINDS for code in lead.links(kind)}
        self.con.executemany("DELETE FROM lead_links WHERE lead_id = ? AND kind = ? AND code = ?",
                             [(lead.lead_id, k, c) for k, c in sorted(have - want)])
        self.con.executemany("INSERT INTO lead_links (lead_id, kind, code) VALUES (?, ?, ?)",
                             [(lead.lead_id, k, c) for k, c in sorted(want - have)])
        return True

    def append_events(self, events: Sequence[LeadEvent]) -> None:
        self.con.executemany(
            f"INSERT INTO lead_events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?)", [_event_row(e) for e in events])


class SqliteLedger(LeadLedger):
    """The ledger in the SQLite file ``path`` (created with its tables when missing).

    ``timeout``: seconds a write waits for another process's write to finish; ``clock``: where
    "now" comes from. Every call opens its own connection, so one ledger may serve many
    threads, and many processes may open the same file. ``seal``: the key and where checkpoints
    go (default: :meth:`SealOptions.beside` the file, no checkpoints).
    """

    name = "embedded"

    def __init__(self, path: Path, *, clock: Clock | None = None,
                 timeout: float = BUSY_TIMEOUT, seal: SealOptions | None = None) -> None:
        super().__init__(clock=clock, seal=seal)
        self.path = Path(path)
        self.timeout = timeout
        self._create()

    def __repr__(self) -> str:
        return f"SqliteLedger({str(self.path)!r})"

    @property
    def target(self) -> str:
        return "sqlite:" + str(self.path.resolve())

    def _default_seal(self) -> SealOptions:
        return SealOptions.beside(self.path)

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own connection."""

    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the leads ledger {self.path}: {exc}; check that its "
                             "folder exists and is writable (YIBAO_LEADS)") from exc
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys = ON")
        return con

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"the leads ledger {self.path} was written by a newer "
                                 f"yibao-graph (schema {version}); upgrade yibao-graph")
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"the leads ledger {self.path} cannot use WAL mode ({mode}): "
                                 "keep it on a local disk, not a network share")
            if version < SCHEMA_VERSION:  # IF NOT EXISTS: two processes may race here
                con.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} "
                                  f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    @contextmanager
    def _transaction(self) -> Iterator[LedgerTransaction]:
        with closing(self._connect()) as con:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"the leads ledger {self.path} stayed locked by another "
                                 f"writer for {self.timeout:.0f} s ({exc}); try again") from exc
            try:
                yield _Tx(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with closing(self._connect()) as con:
            yield con

    def get(self, lead_id: str) -> Lead:
        with self._reading() as con:
            lead = _Tx(con).lead(lead_id)
        if lead is None:
            raise LeadNotFoundError(f"no lead {lead_id!r} in {self.path}: check the id "
                                    "(XS-YEAR-NUMBER) or list the leads", reason="not_found",
                                    lead_id=lead_id)
        return lead

    def find(self, source: Source, source_ref: str) -> Lead | None:
        with self._reading() as con:
            ids = _Tx(con).existing_refs(source, [source_ref])
            return _Tx(con).lead(ids[source_ref]) if ids else None

    def _select(self, flt: LeadFilter, today: date) -> list[Lead]:
        def listed(values: tuple[str, ...]) -> str | None:
            return json.dumps(list(values)) if values else None

        params = {
            "states": listed(flt.states), "sources": listed(flt.sources),
            "risks": listed(flt.risks), "owner": flt.owner,
            "region": region_prefix(flt.region) if flt.region else None,
            "violation": flt.violation,
            "kind": flt.linked[0] if flt.linked else None,
            "code": flt.linked[1] if flt.linked else None,
            "text": flt.text.strip().lower() if flt.text and flt.text.strip() else None,
            "overdue": flt.overdue, "escalate": flt.needs_escalation,
            "today": today.isoformat(),
        }
        with self._reading() as con:
            return _leads(con, con.execute(_SELECT, params).fetchall())

    def history(self, lead_id: str) -> list[LeadEvent]:
        with self._reading() as con:
            return _Tx(con).events_after(lead_id, 0)

    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[LeadEvent]:
        with self._reading() as con:
            cur = con.execute(
                f"SELECT {_EVENT_COLUMNS} FROM lead_events WHERE seq > ? ORDER BY seq LIMIT ?",
                [after_seq, -1 if limit is None else limit])
            return [_event_from(r) for r in cur]

    def file_mode(self) -> str:
        """The journal mode of the file (``wal``)."""
        with self._reading() as con:
            return cast(str, con.execute("PRAGMA journal_mode").fetchone()[0])
