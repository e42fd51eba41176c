"""Settings: one typed object, from explicit values, then the environment, then defaults.

Unknown keys are refused (a typo must not silently fall back to a default). Credentials come
from the environment only and never appear in ``repr`` or logs.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from yibao.errors import SettingsError

__all__ = ["CHROMIUM_NAMES", "ENV_VARS", "Settings"]

Backend = Literal["embedded", "neo4j"]

ENV_VARS: dict[str, str] = {
    "YIBAO_DB": "db",
    "YIBAO_BACKEND": "backend",
    "YIBAO_MEMORY_LIMIT": "memory_limit",
    "YIBAO_THREADS": "threads",
    "YIBAO_DETECTION_CONFIG": "detection_config",
    "YIBAO_CODE_TABLES": "code_tables",
    "YIBAO_USERS": "users_file",
    "YIBAO_AUDIT_LOG": "audit_log",
    "YIBAO_LEADS": "leads_file",
    "YIBAO_LEDGER_KEY": "ledger_key",
    "YIBAO_ANCHOR": "anchor_file",
    "YIBAO_CHROMIUM": "chromium",
    "YIBAO_SIGNIN_STATE": "signin_state",
    "YIBAO_SIGNIN_BACKOFF_AFTER": "signin_backoff_after",
    "YIBAO_SIGNIN_BACKOFF_SECONDS": "signin_backoff_seconds",
    "YIBAO_SIGNIN_BACKOFF_MAX_SECONDS": "signin_backoff_max_seconds",
    "YIBAO_SIGNIN_LOCKOUT_AFTER": "signin_lockout_after",
    "YIBAO_SIGNIN_WINDOW_SECONDS": "signin_window_seconds",
    "NEO4J_URI": "neo4j_uri",
    "NEO4J_USER": "neo4j_user",
    "NEO4J_PASSWORD": "neo4j_password",
    "NEO4J_DATABASE": "neo4j_database",
}

CHROMIUM_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome")
"""Commands looked up on ``PATH`` for the Chromium binary when ``YIBAO_CHROMIUM`` is not set."""


@dataclass(frozen=True)
class Settings:
    """Where the store is and how to run.

    ``db``: the embedded store file; ``backend``: ``embedded`` (default) or ``neo4j``;
    ``memory_limit``: DuckDB memory limit such as ``"6GB"`` (DuckDB's default: 80% of RAM);
    ``threads``: worker threads (default: all cores); ``detection_config``: a TOML file
    overriding detection settings (``graph/detection.toml``); ``users_file``: the workbench's
    user file (TOML, hashed passwords; default ``users.toml`` beside the store); ``audit_log``:
    where the workbench appends who unmasked what (default ``audit.jsonl`` beside the store);
    ``leads_file``: the embedded leads ledger (线索台账, SQLite; default ``leads.sqlite`` beside
    the store); ``ledger_key``: the secret key file (HMAC-SHA256) that seals the ledger's and
    the audit log's chains, created with mode 0600 on first use (default ``ledger.key`` beside
    the audit log; keep it away from the files it seals); ``anchor_file``: where checkpoints
    of the chains' heads are also appended (a file on another machine or share; default none);
    ``chromium``: the Chromium (or Chrome) binary that prints briefings to PDF/PNG,
    a path or a command name (default: the first of :data:`CHROMIUM_NAMES` on ``PATH``).

    The workbench's sign-in rate limit (see :mod:`dashboards.sign_in_limit`): ``signin_state``,
    the file that keeps failed sign-ins and locks (SQLite; default ``users.signin.sqlite``
    beside the user file); after ``signin_backoff_after`` failures within
    ``signin_window_seconds`` a user name or an address waits ``signin_backoff_seconds``
    before the next try, doubling with each further failure up to
    ``signin_backoff_max_seconds``; ``signin_lockout_after`` failures of one user name within
    the window lock it until an administrator runs ``yibao user unlock NAME``.
    """

    db: Path = Path("yibao.duckdb")
    backend: Backend = "embedded"
    memory_limit: str | None = None
    threads: int | None = None
    detection_config: Path | None = None
    code_tables: Path | None = None
    """A code mapping file (TOML) extending the shipped code tables (``loaders/codes.py``)."""
    users_file: Path | None = None
    audit_log: Path | None = None
    leads_file: Path | None = None
    ledger_key: Path | None = None
    anchor_file: Path | None = None
    chromium: str | None = None
    signin_state: Path | None = None
    signin_backoff_after: int = 5
    signin_backoff_seconds: float = 1.0
    signin_backoff_max_seconds: float = 900.0
    signin_lockout_after: int = 10
    signin_window_seconds: float = 900.0
    neo4j_uri: str | None = None
    neo4j_user: str | None = None
    neo4j_password: str | None = field(default=None, repr=False)
    neo4j_database: str | None = None

    @property
    def users_path(self) -> Path:
        """The workbench user file: ``users_file``, else ``users.toml`` beside the store."""
        return self.users_file or self.db.with_name("users.toml")

    @property
    def audit_path(self) -> Path:
        """The workbench audit log: ``audit_log``, else ``audit.jsonl`` beside the store."""
        return self.audit_log or self.db.with_name("audit.jsonl")

    @property
    def leads_path(self) -> Path:
        """The embedded leads ledger: ``leads_file``, else ``leads.sqlite`` beside the store."""
        return self.leads_file or self.db.with_name("leads.sqlite")

    @property
    def profiles_path(self) -> Path:
        """Where named detection profiles are saved (``yibao detect --profile NAME``):
        ``detection_profiles`` beside the store."""
        return self.db.with_name("detection_profiles")

    @property
    def signin_state_path(self) -> Path:
        """The sign-in rate limit's state: ``signin_state``, else ``<user file stem>.signin.sqlite``
        beside the user file (``users.signin.sqlite``)."""
        users = self.users_path
        return self.signin_state or users.with_name(users.stem + ".signin.sqlite")

    @property
    def key_path(self) -> Path:
        """The key file sealing the ledger and audit log: ``ledger_key``
        (``YIBAO_LEDGER_KEY``), else ``ledger.key`` beside the audit log."""
        return self.ledger_key or self.audit_path.with_name("ledger.key")

    @property
    def chromium_binary(self) -> Path | None:
        """The Chromium binary to run: ``chromium`` (a path, or a name looked up on ``PATH``),
        else the first of :data:`CHROMIUM_NAMES` on ``PATH``; ``None`` when none is found."""
        for name in (self.chromium,) if self.chromium else CHROMIUM_NAMES:
            found = shutil.which(name)
            if found:
                return Path(found)
        return None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from a mapping of field names; unknown names are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(
                f"unknown setting(s) {unknown}: known settings are {sorted(known)}"
            )
        return cls()._with(values)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Settings from ``YIBAO_*``/``NEO4J_*`` variables, then explicit ``overrides``.

        An unknown ``YIBAO_`` variable is an error naming the known ones.
        """
        env = os.environ if env is None else env
        unknown = sorted(k for k in env if k.startswith("YIBAO_") and k not in ENV_VARS)
        if unknown:
            raise SettingsError(
                f"unknown environment variable(s) {unknown}: known are "
                f"{sorted(k for k in ENV_VARS if k.startswith('YIBAO_'))}"
            )
        values: dict[str, Any] = {ENV_VARS[k]: v for k, v in env.items() if k in ENV_VARS and v}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_mapping(values)

    def _with(self, values: Mapping[str, Any]) -> Settings:
        parsed: dict[str, Any] = {}
        for name, value in values.items():
            if name == "db" or (
                name in ("detection_config", "code_tables", "users_file", "audit_log",
                         "leads_file", "signin_state", "ledger_key", "anchor_file")
                and value is not None
            ):
                parsed[name] = Path(value)
            elif name == "backend":
                if value not in ("embedded", "neo4j"):
                    raise SettingsError(
                        f"backend {value!r} is not known: use 'embedded' or 'neo4j' "
                        "(YIBAO_BACKEND)"
                    )
                parsed[name] = value
            elif name == "memory_limit" and value is not None:
                parsed[name] = _memory_limit(str(value))
            elif name == "threads":
                try:
                    parsed[name] = int(value)
                except (TypeError, ValueError) as exc:
                    raise SettingsError(
                        f"threads must be a whole number, not {value!r} (YIBAO_THREADS)"
                    ) from exc
                if parsed[name] < 1:
                    raise SettingsError(f"threads must be at least 1, not {value!r}")
            elif name in _SIGNIN_NUMBERS:
                parsed[name] = _signin_number(name, value)
            else:
                parsed[name] = None if value is None else str(value)
        settings = replace(self, **parsed)
        if settings.signin_backoff_max_seconds < settings.signin_backoff_seconds:
            raise SettingsError(
                f"signin_backoff_max_seconds ({settings.signin_backoff_max_seconds:g}) is below "
                f"signin_backoff_seconds ({settings.signin_backoff_seconds:g}): raise "
                "YIBAO_SIGNIN_BACKOFF_MAX_SECONDS or lower YIBAO_SIGNIN_BACKOFF_SECONDS"
            )
        return settings


_SIGNIN_NUMBERS: dict[str, type[int] | type[float]] = {
    "signin_backoff_after": int,
    "signin_backoff_seconds": float,
    "signin_backoff_max_seconds": float,
    "signin_lockout_after": int,
    "signin_window_seconds": float,
}


def _signin_number(name: str, value: Any) -> int | float:
    """A sign-in limit as its type (a whole number of failures, or seconds), at least 1."""
    kind = _SIGNIN_NUMBERS[name]
    env = "YIBAO_" + name.upper()
    try:
        number = kind(value)
    except (TypeError, ValueError) as exc:
        what = "a whole number of failures" if kind is int else "a number of seconds"
        raise SettingsError(f"{name} must be {what}, not {value!r} ({env})") from exc
    if not number >= 1:  # also refuses NaN
        raise SettingsError(f"{name} must be at least 1, not {value!r} ({env})")
    return number


_MEMORY = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.I)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
MEMORY_LIMIT_MIN = 256 * 10**6
"""The smallest store memory limit accepted: below it DuckDB cannot run a load's checks."""


def _memory_limit(text: str) -> str:
    """``text`` as a DuckDB memory limit ("6GB", "500MiB"), else :class:`SettingsError`.

    The limit bounds the store's own memory (DuckDB's buffers for loads and queries, spilled to
    disk beyond it), not the Python process: frames and arrays the workbench and detection
    build come on top of it.
    """
    match = _MEMORY.fullmatch(text)
    if match is None:
        raise SettingsError(
            f"memory limit {text!r} is not a size: write a number and a unit such as 6GB or "
            "500MB (YIBAO_MEMORY_LIMIT)"
        )
    size = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if size < MEMORY_LIMIT_MIN:
        raise SettingsError(
            f"memory limit {text!r} is below 256MB, too little for a load: give at least 256MB "
            "(YIBAO_MEMORY_LIMIT)"
        )
    return f"{match.group(1)}{match.group(2).upper().replace('I', 'i')}"
