"""The workbench audit log: who revealed which person's data, when (append-only, sealed JSON lines).

Each line: ``{"at": ISO time (UTC), "user": ..., "role": ..., "action": ..., "subject_kind":
..., "subject": ..., "context": ..., "seq": n, "mac": "hmac:…"}``. ``mac`` chains the line to
the one before it with the ledger key (:mod:`yibao.leads.seal`, ``YIBAO_LEDGER_KEY``), so an
edited, deleted or reordered line shows in ``yibao audit verify``; with an anchor file set
(``YIBAO_ANCHOR``) every line's head is anchored there too, so a deleted tail shows as well.
Lines are appended under a file lock with ``O_APPEND`` and fsynced; the log is never rewritten.
Lines from before the chain was keyed (no ``mac``) are read as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from yibao.leads.seal import (
    ChainReport,
    SealOptions,
    anchor_log,
    append_chained,
    load_key,
    log_target,
    verify_log,
)
from yibao.settings import Settings

__all__ = ["AuditEntry", "append_audit", "read_audit", "verify_audit"]


@dataclass(frozen=True)
class AuditEntry:
    """One audited action; ``seq`` and ``mac`` are its place in the sealed chain (``None`` on
    a line written before the chain was keyed)."""

    at: str
    user: str
    role: str
    action: str
    subject_kind: str
    subject: str
    context: str = ""
    seq: int | None = None
    mac: str | None = None


_FIELDS = tuple(f.name for f in fields(AuditEntry))


def _seal(path: Path, seal: SealOptions | None) -> SealOptions:
    if seal is not None:
        return seal
    settings = Settings.from_env()
    return SealOptions(settings.ledger_key or path.with_name("ledger.key"), path,
                       settings.anchor_file)


def append_audit(path: Path, *, user: str, role: str, action: str, subject_kind: str,
                 subject: str, context: str = "", seal: SealOptions | None = None
                 ) -> AuditEntry:
    """Append one sealed entry to the log at ``path`` (created if missing) and return it.

    ``seal``: the key and anchor file (default: ``YIBAO_LEDGER_KEY``, else ``ledger.key``
    beside the log as :attr:`Settings.key_path` has it, and ``YIBAO_ANCHOR``). The key file
    is created on first use."""
    options = _seal(path, seal)
    key = load_key(options.key_path, create=True)
    assert key is not None
    record = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "user": user,
              "role": role, "action": action, "subject_kind": subject_kind,
              "subject": subject, "context": context}
    written = append_chained(path, key, record)
    anchor_log(options, key, log_target(path), written["seq"], written["mac"])
    return AuditEntry(**{k: written[k] for k in _FIELDS if k in written})


def read_audit(path: Path) -> list[AuditEntry]:
    """Every entry in the log (oldest first); an absent log is empty. Not a check: use
    :func:`verify_audit` for that."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [AuditEntry(**{k: row[k] for k in _FIELDS if k in row}) for row in rows]


def verify_audit(path: Path, *, seal: SealOptions | None = None,
                 anchors: tuple[Path, ...] = ()) -> ChainReport:
    """Check the log's chain and its head against the anchor file and ``anchors``."""
    options = _seal(path, seal)
    listed = [*anchors, *([options.anchor_path] if options.anchor_path else [])]
    return verify_log(path, load_key(options.key_path, create=False), anchors=listed)

