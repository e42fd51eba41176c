"""The workbench audit log: who revealed which person's data, when (append-only JSON lines).

Each line: ``{"at": ISO time (UTC), "user": ..., "role": ..., "action": ..., "subject_kind":
..., "subject": ..., "context": ...}``. Lines are appended with ``O_APPEND`` and fsynced; the log
is never rewritten by the workbench.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["AuditEntry", "append_audit", "read_audit"]


@dataclass(frozen=True)
class AuditEntry:
    """One audited action."""

    at: str
    user: str
    role: str
    action: str
    subject_kind: str
    subject: str
    context: str = ""


def append_audit(path: Path, *, user: str, role: str, action: str, subject_kind: str,
                 subject: str, context: str = "") -> AuditEntry:
    """Append one entry to the log at ``path`` (created if missing) and return it."""
    entry = AuditEntry(at=datetime.now(UTC).isoformat(timespec="seconds"), user=user,
                       role=role, action=action, subject_kind=subject_kind, subject=subject,
                       context=context)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(asdict(entry), ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def read_audit(path: Path) -> list[AuditEntry]:
    """Every entry in the log (oldest first); an absent log is empty."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [AuditEntry(**json.loads(line)) for line in fh if line.strip()]
