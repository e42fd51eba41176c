"""Keyed chains: the secret key, sealed JSON-lines logs, and checkpoints of a chain's head.

The leads ledger's events and the workbench audit log (``audit.jsonl``) are each a chain: every
entry carries ``mac = HMAC-SHA256(key, prev_mac || canonical JSON of the entry)``, written as
``"hmac:" + hex``. Someone who edits an entry, deletes one in the middle or reorders entries
cannot recompute the MACs after it without the key, which lives in its own file
(:attr:`yibao.settings.Settings.key_path`, ``YIBAO_LEDGER_KEY``; 32 random bytes as hex,
created with mode 0600 on first use), never inside the files it seals.

Deleting the *last* entries leaves a valid shorter chain, so the head is anchored: after every
ledger write a checkpoint (the target, the last sequence number, its MAC, the time) is appended
to the audit log, and to an anchor file a user names (``YIBAO_ANCHOR`` / ``--anchor``: keep it
on another machine or share); every audit line is anchored there too. Verification compares the
chain with every checkpoint it can read: a chain shorter than a checkpoint lost its tail.

Entries written before keys existed (no ``mac``) are an unkeyed legacy segment: allowed only
before the first keyed entry, reported as such, and the first keyed entry chains from them (for
a JSON-lines log, from the SHA-256 of the legacy bytes), so they cannot change unnoticed
afterwards. See ``docs/security.md`` for what this protects against and what it cannot.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yibao.errors import SettingsError, StoreError
from yibao.settings import Settings

__all__ = [
    "GENESIS_MAC",
    "KEYED",
    "ChainKey",
    "ChainReport",
    "Checkpoint",
    "SealOptions",
    "anchor_log",
    "append_chained",
    "canonical_json",
    "checkpoint_ledger",
    "checkpoints_for",
    "is_keyed",
    "load_key",
    "log_target",
    "read_chained",
    "verify_log",
]

KEYED = "hmac:"
"""The prefix of a keyed MAC (an entry without it is unkeyed legacy)."""

GENESIS_MAC = "0" * 64
"""The ``prev`` of a chain's first entry."""

KEY_ENV = "YIBAO_LEDGER_KEY"


def canonical_json(value: object) -> str:
    """JSON with sorted keys, no spaces and Chinese kept as is: the same value always gives the
    same text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def is_keyed(mac: str | None) -> bool:
    """Whether ``mac`` is a keyed MAC (not a legacy hash)."""
    return bool(mac) and str(mac).startswith(KEYED)


@dataclass(frozen=True)
class ChainKey:
    """The secret of the chains (never printed) and the file it came from."""

    secret: bytes = field(repr=False)
    path: Path | None = None

    def mac(self, prev: str, payload: bytes) -> str:
        """``"hmac:"`` + hex HMAC-SHA256 of ``prev`` followed by ``payload``."""
        return KEYED + hmac.new(self.secret, prev.encode("utf-8") + payload,
                                hashlib.sha256).hexdigest()

    def matches(self, prev: str, payload: bytes, mac: str) -> bool:
        """Whether ``mac`` seals ``payload`` after ``prev`` (constant-time comparison)."""
        return hmac.compare_digest(self.mac(prev, payload), mac)


def load_key(path: Path, *, create: bool) -> ChainKey | None:
    """The key in ``path``; created there (mode 0600) when missing and ``create``, else
    ``None``. Refuses a key file others may read, or one that is not a key."""
    path = Path(path)
    if not path.exists():
        if not create:
            return None
        # written whole to a private file, then linked into place: a process racing to create
        # it either links first or reads the complete key of the one that did
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
            with contextlib.suppress(FileExistsError):  # another process linked first: use theirs
                os.link(tmp, path)
        except OSError as exc:
            raise SettingsError(f"cannot create the ledger key {path}: {exc}; make its folder "
                                f"writable or point {KEY_ENV} elsewhere") from exc
        finally:
            tmp.unlink(missing_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SettingsError(f"密钥文件权限过宽 / the ledger key {path} may be read by others "
                            f"(mode {mode:o}): run 'chmod 600 {path}'")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 16:
        raise SettingsError(f"the ledger key {path} is not a key (expected 64 hex digits): "
                            f"restore it from your backup, or point {KEY_ENV} at the key file")
    return ChainKey(secret, path)


@dataclass(frozen=True)
class SealOptions:
    """Where the key is, and where checkpoints go: the audit log (``None``: none) and an anchor
    file (``None``: none)."""

    key_path: Path
    audit_path: Path | None = None
    anchor_path: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, audit: bool = True) -> SealOptions:
        """The key, audit log and anchor file of ``settings``."""
        return cls(settings.key_path, settings.audit_path if audit else None,
                   settings.anchor_file)

    @classmethod
    def beside(cls, ledger_file: Path) -> SealOptions:
        """``YIBAO_LEDGER_KEY`` when set, else ``ledger.key`` beside ``ledger_file`` (in the
        default layout the store's folder, where :attr:`Settings.key_path` puts it too, beside
        the audit log); no checkpoints. What a ledger opened without settings uses."""
        env = os.environ.get(KEY_ENV)
        return cls(Path(env) if env else Path(ledger_file).with_name("ledger.key"))


# -- sealed JSON-lines logs ------------------------------------------------------------


def _payload(record: Mapping[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in record.items() if k != "mac"}).encode("utf-8")


def _legacy_prev(legacy_bytes: bytes) -> str:
    return "sha256:" + hashlib.sha256(legacy_bytes).hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open {path} to append ({exc}): check that its folder exists "
                         "and is writable") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def _last_line(fd: int, size: int) -> bytes:
    end, buf = size, b""
    while end > 0:
        start = max(0, end - 8192)
        buf = os.pread(fd, end - start, start) + buf
        end = start
        body = buf.rstrip(b"\r\n \t")
        if b"\n" in body:
            return body.rsplit(b"\n", 1)[1]
    return buf.strip()


def append_chained(path: Path, key: ChainKey, record: Mapping[str, Any]) -> dict[str, Any]:
    """Append ``record`` to the JSON-lines log ``path`` as the chain's next entry (adding
    ``seq`` and ``mac``) under an exclusive lock, fsynced; the entry as written."""
    with _locked(path) as fd:
        size = os.fstat(fd).st_size
        last = _last_line(fd, size)
        sep = b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""
        prev, seq = GENESIS_MAC, 1
        if last:
            try:
                before = json.loads(last)
            except ValueError as exc:
                raise StoreError(f"{path} ends in a damaged line: run 'yibao audit verify', "
                                 "keep the file as evidence and move it aside to start a new "
                                 "one") from exc
            if is_keyed(before.get("mac")):
                prev, seq = str(before["mac"]), int(before["seq"]) + 1
            else:  # the first keyed entry after unkeyed legacy lines seals their bytes
                data = os.pread(fd, size, 0) + sep
                prev = _legacy_prev(data)
                seq = sum(1 for line in data.splitlines() if line.strip()) + 1
        entry = {**record, "seq": seq}
        entry["mac"] = key.mac(prev, _payload(entry))
        os.write(fd, sep + (canonical_json(entry) + "\n").encode("utf-8"))
        os.fsync(fd)
    return entry


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_log` found in a sealed log: ``ok`` when every line seals and no
    checkpoint is missing; ``first_bad`` the first line (sequence number) that cannot be
    trusted; ``legacy`` unkeyed lines from before keying; ``anchored`` the last line a
    checkpoint confirms."""

    path: str
    lines: int
    legacy: int
    problems: tuple[str, ...]
    first_bad: int | None
    head: str
    anchored: int = 0
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        legacy = (f"; 前 {self.legacy} 行为启用密钥前的旧记录，未加密钥保护 / lines 1-{self.legacy}"
                  " are an unkeyed legacy segment (written before keyed chaining; sealed only "
                  "by the first keyed line after them)" if self.legacy else "")
        anchor = (f"; 锚点确认至第 {self.anchored} 行 / checkpoints confirm lines up to "
                  f"#{self.anchored}" if self.anchored else
                  "; 无锚点 / no checkpoint found: deleting the last lines cannot be detected")
        if self.ok:
            return (f"审计日志完整 / audit log intact: {self.path}, {self.lines} lines"
                    f"{legacy}{anchor}")
        first = (f", first bad line #{self.first_bad}" if self.first_bad else "")
        return (f"审计日志被改动 / audit log tampered with: {self.path}{first} "
                f"({len(self.problems)} problems){legacy}{anchor}. Lines from the first bad one"
                " on cannot be trusted: compare with a backup, keep this file as evidence, and "
                "find out who could write to it")


@dataclass(frozen=True)
class _Chain:
    records: list[dict[str, Any]]
    """Lines that parse and seal (the ones checkpoints may be read from)."""
    lines: int
    legacy: int
    problems: list[tuple[int, str]]
    head: str


def read_chained(path: Path, key: ChainKey | None) -> _Chain:
    """Check the chain of the log ``path`` line by line (no checkpoints); an absent log is an
    empty chain. :class:`SettingsError` when it has keyed lines and there is no ``key``."""
    data = path.read_bytes() if path.exists() else b""
    records: list[dict[str, Any]] = []
    problems: list[tuple[int, str]] = []
    prev, offset, k, legacy, keyed = GENESIS_MAC, 0, 0, 0, False
    for raw in data.splitlines(keepends=True):
        start, offset = offset, offset + len(raw)
        if not raw.strip():
            continue
        k += 1
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError:
            problems.append((k, f"line #{k}: not a JSON object (damaged or edited)"))
            keyed = True
            continue
        mac = record.get("mac")
        if not is_keyed(mac):
            if keyed:
                problems.append((k, f"line #{k}: has no MAC after keyed lines (inserted, or its "
                                    "MAC stripped)"))
            else:
                legacy += 1
                records.append(record)
            continue
        if key is None:
            raise SettingsError(f"{path} is sealed with a key, but there is no key file: set "
                                f"{KEY_ENV} to the key file that sealed it")
        if not keyed and legacy:
            prev = _legacy_prev(data[:start])
        keyed = True
        if record.get("seq") != k:
            problems.append((k, f"line #{k}: has sequence number {record.get('seq')!r} "
                                "(lines deleted, inserted or reordered)"))
        elif not key.matches(prev, _payload(record), str(mac)):
            problems.append((k, f"line #{k}: MAC does not match (edited, reordered, or a line "
                                "before it deleted)"))
        else:
            records.append(record)
        prev = str(mac)
    return _Chain(records, k, legacy, problems, prev)


def log_target(path: Path) -> str:
    """The name checkpoints give the audit log at ``path``."""
    return "audit:" + str(Path(path).resolve())


@dataclass(frozen=True)
class Checkpoint:
    """A chain's head as recorded at ``at`` in ``source``: entry ``seq`` had MAC ``head``."""

    target: str
    seq: int
    head: str
    at: str
    source: str


def checkpoints_for(target: str, key: ChainKey | None, sources: Iterable[Path]
                    ) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints of ``target`` in the sealed logs ``sources`` (audit logs and anchor
    files; only lines that seal count), and the problems of those logs' own chains."""
    found: list[Checkpoint] = []
    problems: list[str] = []
    for source in dict.fromkeys(Path(s) for s in sources):
        if not source.exists():
            continue
        chain = read_chained(source, key)
        problems += [f"{source}: {p}" for _, p in chain.problems]
        for r in chain.records:
            if not is_keyed(r.get("mac")):
                continue
            if r.get("action") == "checkpoint" and r.get("subject") == target:
                try:
                    head = json.loads(str(r.get("context")))
                    found.append(Checkpoint(target, int(head["seq"]), str(head["head"]),
                                            str(r.get("at")), str(source)))
                except (ValueError, KeyError, TypeError):
                    problems.append(f"{source}: line #{r.get('seq')}: unreadable checkpoint")
            elif r.get("kind") == "anchor" and r.get("target") == target:
                found.append(Checkpoint(target, int(r["head_seq"]), str(r["head"]),
                                        str(r.get("at")), str(source)))
    return found, problems


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def anchor_log(options: SealOptions, key: ChainKey, target: str, seq: int, head: str) -> None:
    """Append the head (``seq``, ``head``) of ``target`` to the anchor file, if one is set."""
    if options.anchor_path is not None:
        append_chained(options.anchor_path, key, {"at": _now(), "kind": "anchor",
                                                  "target": target, "head_seq": seq,
                                                  "head": head})


def checkpoint_ledger(options: SealOptions, key: ChainKey, target: str, seq: int,
                      head: str) -> None:
    """Record the ledger ``target``'s head: a checkpoint line in the audit log, and the ledger's
    and the audit log's heads in the anchor file (each where set)."""
    if options.audit_path is not None:
        entry = append_chained(options.audit_path, key, {
            "at": _now(), "user": "system", "role": "system", "action": "checkpoint",
            "subject_kind": "ledger", "subject": target,
            "context": canonical_json({"seq": seq, "head": head})})
        anchor_log(options, key, log_target(options.audit_path), entry["seq"], entry["mac"])
    anchor_log(options, key, target, seq, head)


def compare_checkpoints(macs: Sequence[str], checkpoints: Iterable[Checkpoint], *,
                        what: str) -> tuple[list[tuple[int, str]], int]:
    """Problems (sequence number, text) where the chain whose entry ``k`` has MAC
    ``macs[k - 1]`` disagrees with a checkpoint, and the last entry a checkpoint confirms."""
    problems: list[tuple[int, str]] = []
    anchored = 0
    for c in sorted(checkpoints, key=lambda c: (c.seq, c.at)):
        if c.seq > len(macs):
            problems.append((len(macs) + 1, f"{what} #{len(macs) + 1}-#{c.seq} missing: the "
                             f"checkpoint of {c.at} in {c.source} recorded #{c.seq} "
                             "(the last entries were deleted)"))
        elif c.seq >= 1 and not hmac.compare_digest(macs[c.seq - 1], c.head):
            problems.append((c.seq, f"{what} #{c.seq} differs from the checkpoint of {c.at} "
                             f"in {c.source} (rewritten)"))
        else:
            anchored = max(anchored, c.seq)
    return problems, anchored


def verify_log(path: Path, key: ChainKey | None, *, anchors: Sequence[Path] = ()
               ) -> ChainReport:
    """Check the sealed log ``path`` (the audit log): its chain, and its head against the
    checkpoints in the anchor files ``anchors``."""
    chain = read_chained(path, key)
    problems = list(chain.problems)
    macs = [str(r.get("mac", "")) for r in _all_lines(path)]
    checkpoints, anchor_problems = checkpoints_for(log_target(path), key, anchors)
    missing, anchored = compare_checkpoints(macs, checkpoints, what="line")
    problems += missing
    problems.sort(key=lambda p: p[0])
    texts = [p for _, p in problems] + anchor_problems
    first = problems[0][0] if problems else None
    return ChainReport(str(path), chain.lines, chain.legacy, tuple(texts), first, chain.head,
                       anchored, len(checkpoints))


def _all_lines(path: Path) -> list[dict[str, Any]]:
    """Every non-blank line as an object (``{}`` for a damaged one), in order."""
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    for raw in path.read_bytes().splitlines():
        if raw.strip():
            try:
                value = json.loads(raw)
            except ValueError:
                value = {}
            out.append(value if isinstance(value, dict) else {})
    return out
