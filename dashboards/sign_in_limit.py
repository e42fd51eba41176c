"""The sign-in rate limit: back-off per user name and per address, lockout per user name.

Without it, 30 wrong passwords in a minute and then the right one signed in at once. Now:

* every failed sign-in is counted against the **user name** typed (whether or not it exists,
  so the limit reveals nothing about which names do) and against the client's **address**
  (when Streamlit knows it, see :func:`dashboards.app`);
* after :attr:`SignInLimits.backoff_after` failures within :attr:`SignInLimits.window_seconds`
  the next try of that name or from that address must wait
  :attr:`SignInLimits.backoff_seconds`, doubling with each further failure up to
  :attr:`SignInLimits.backoff_max_seconds`; a try made earlier is refused without looking at
  the password;
* :attr:`SignInLimits.lockout_after` failures of one user name within the window **lock** it:
  even the right password is refused until an administrator runs ``yibao user unlock NAME``.
  Addresses are only slowed down, never locked (one guesser behind an office's shared address
  must not lock the office out); a lock names the address of the failure that set it.

A success clears the name's failures. Each try is counted as a failure from the moment it is
admitted until its password proves right, so a burst of parallel tries cannot slip past the
back-off.

The state is a small SQLite file (:attr:`yibao.settings.Settings.signin_state_path`, beside
the user file, mode 0600): every session of a server shares it, it survives a restart, and each
change is one transaction. Times are wall-clock seconds (they must survive a restart); the
clock is an argument, so tests use a fake one.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dashboards.audit import append_audit
from dashboards.auth import User, authenticate
from yibao.errors import SignInStateError
from yibao.settings import Settings

__all__ = [
    "NAME_CHARS",
    "Admission",
    "Failure",
    "Lock",
    "SignInLimits",
    "SignInOutcome",
    "SignInThrottle",
    "limits_from_settings",
    "sign_in_with_password",
    "throttle_from_settings",
]

NAME_CHARS = 128
"""A typed user name is kept (as a key and in the audit log) to its first 128 characters: no
real name is longer, and a megabyte-long one must not bloat the state or the log."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_key ON attempts (kind, key, at);
CREATE TABLE IF NOT EXISTS locks (
    username TEXT PRIMARY KEY, at REAL NOT NULL, failures INTEGER NOT NULL, address TEXT);
"""


@dataclass(frozen=True)
class SignInLimits:
    """How many failures are tolerated, and for how long (seconds)."""

    backoff_after: int = 5
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 900.0
    lockout_after: int = 10
    window_seconds: float = 900.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the last of ``failures`` failures before the next try:
        none below :attr:`backoff_after`, then :attr:`backoff_seconds` doubling per failure,
        at most :attr:`backoff_max_seconds`."""
        if failures < self.backoff_after:
            return 0.0
        doublings = min(failures - self.backoff_after, 60)
        return float(min(self.backoff_max_seconds, self.backoff_seconds * 2**doublings))


def limits_from_settings(settings: Settings) -> SignInLimits:
    """The limits the settings (``YIBAO_SIGNIN_*``) give."""
    return SignInLimits(backoff_after=settings.signin_backoff_after,
                        backoff_seconds=settings.signin_backoff_seconds,
                        backoff_max_seconds=settings.signin_backoff_max_seconds,
                        lockout_after=settings.signin_lockout_after,
                        window_seconds=settings.signin_window_seconds)


@dataclass(frozen=True)
class Admission:
    """Whether a sign-in may check its password now.

    ``reason``: ``"ok"`` (go ahead, then report :meth:`SignInThrottle.succeeded` or
    :meth:`SignInThrottle.failed`), ``"backoff"`` (wait ``wait_seconds``, whole seconds
    rounded up) or ``"locked"`` (an administrator must unlock the name).
    """

    reason: Literal["ok", "backoff", "locked"]
    username: str
    address: str | None
    wait_seconds: int = 0
    attempts: tuple[int, ...] = ()

    @property
    def allowed(self) -> bool:
        """Whether the password may be checked."""
        return self.reason == "ok"


@dataclass(frozen=True)
class Failure:
    """What a failed password led to: the name is now ``locked``, or the next try must wait
    ``wait_seconds`` (0: at once); ``failures``: the name's failures within the window."""

    locked: bool
    wait_seconds: int
    failures: int


@dataclass(frozen=True)
class Lock:
    """A locked user name: since when (epoch seconds), after how many failures, and the address
    of the failure that locked it (``None``: unknown or the server's own machine)."""

    username: str
    at: float
    failures: int
    address: str | None


class SignInThrottle:
    """Failed sign-ins and locks kept in the SQLite file at ``path`` (see the module).

    Parameters
    ----------
    path
        The state file (created with mode 0600 when missing).
    limits
        The limits; the defaults of :class:`SignInLimits` when ``None``.
    clock
        Wall-clock seconds (:func:`time.time`); tests pass a fake one.
    """

    def __init__(self, path: Path, limits: SignInLimits | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.limits = limits or SignInLimits()
        self._clock = clock

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: sessions and servers take turns)."""
        fresh = not self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise SignInStateError(
                f"cannot open the sign-in state {self.path}: {exc}. Make its folder writable "
                "for the workbench, or point YIBAO_SIGNIN_STATE at a writable file"
            ) from exc
        try:
            if fresh:
                os.chmod(self.path, 0o600)
            db.executescript(_SCHEMA)  # idempotent; before the transaction it would commit
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise SignInStateError(
                f"the sign-in state {self.path} cannot be used: {exc}. Check the disk, or move "
                "the file away (this forgets failed sign-ins and locks) and sign in again"
            ) from exc
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _keys(self, username: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("user", username)]
        if address:
            keys.append(("address", address))
        return keys

    def _count(self, db: sqlite3.Connection, kind: str, key: str, now: float
               ) -> tuple[int, float]:
        row = db.execute("SELECT COUNT(*), MAX(at) FROM attempts WHERE kind = ? AND key = ? "
                         "AND at > ?", (kind, key, now - self.limits.window_seconds)).fetchone()
        return int(row[0]), float(row[1] or 0.0)

    def admit(self, username: str, address: str | None = None) -> Admission:
        """Whether ``username`` (as typed, stripped) may try a password now from ``address``;
        when it may, the try is counted as a failure until :meth:`succeeded` says otherwise."""
        name = username.strip()[:NAME_CHARS]
        now = self._clock()
        with self._transaction() as db:
            db.execute("DELETE FROM attempts WHERE at <= ?", (now - self.limits.window_seconds,))
            if db.execute("SELECT 1 FROM locks WHERE username = ?", (name,)).fetchone():
                return Admission("locked", name, address)
            wait = 0.0
            for kind, key in self._keys(name, address):
                failures, last = self._count(db, kind, key, now)
                wait = max(wait, last + self.limits.delay(failures) - now)
            if wait > 0:
                return Admission("backoff", name, address, wait_seconds=math.ceil(wait))
            ids = tuple(
                int(db.execute("INSERT INTO attempts (kind, key, at) VALUES (?, ?, ?)",
                               (kind, key, now)).lastrowid or 0)
                for kind, key in self._keys(name, address))
        return Admission("ok", name, address, attempts=ids)

    def succeeded(self, admission: Admission) -> None:
        """The password was right: forget the name's failures (the address keeps its earlier
        ones: one good account does not wipe another name's guesses)."""
        with self._transaction() as db:
            db.execute("DELETE FROM attempts WHERE kind = 'user' AND key = ?",
                       (admission.username,))
            db.executemany("DELETE FROM attempts WHERE id = ?",
                           [(i,) for i in admission.attempts])

    def cancel(self, admission: Admission) -> None:
        """The password could not be checked (the user file is broken): the try does not
        count."""
        with self._transaction() as db:
            db.executemany("DELETE FROM attempts WHERE id = ?",
                           [(i,) for i in admission.attempts])

    def failed(self, admission: Admission) -> Failure:
        """The password was wrong (or the name unknown): the try stays counted; the name is
        locked when it reached :attr:`SignInLimits.lockout_after` failures in the window."""
        now = self._clock()
        with self._transaction() as db:
            db.executemany("UPDATE attempts SET at = ? WHERE id = ?",
                           [(now, i) for i in admission.attempts])
            failures, _ = self._count(db, "user", admission.username, now)
            locked = failures >= self.limits.lockout_after
            if locked:
                db.execute("INSERT OR IGNORE INTO locks (username, at, failures, address) "
                           "VALUES (?, ?, ?, ?)",
                           (admission.username, now, failures, admission.address))
                return Failure(locked=True, wait_seconds=0, failures=failures)
            wait = 0.0
            for kind, key in self._keys(admission.username, admission.address):
                count, last = self._count(db, kind, key, now)
                wait = max(wait, last + self.limits.delay(count) - now)
        return Failure(locked=False, wait_seconds=math.ceil(wait), failures=failures)

    def unlock(self, username: str) -> bool:
        """Lift the lock of ``username`` and forget its failures; whether it was locked."""
        with self._transaction() as db:
            cur = db.execute("DELETE FROM locks WHERE username = ?", (username,))
            db.execute("DELETE FROM attempts WHERE kind = 'user' AND key = ?", (username,))
            return cur.rowcount > 0

    def locks(self) -> list[Lock]:
        """Every locked user name, oldest lock first."""
        if not self.path.exists():
            return []
        with self._transaction() as db:
            rows = db.execute("SELECT username, at, failures, address FROM locks "
                              "ORDER BY at, username").fetchall()
        return [Lock(str(n), float(a), int(f), str(ad) if ad else None)
                for n, a, f, ad in rows]


def throttle_from_settings(settings: Settings, *,
                           clock: Callable[[], float] = time.time) -> SignInThrottle:
    """The throttle the settings choose (state file and limits)."""
    return SignInThrottle(settings.signin_state_path, limits_from_settings(settings),
                          clock=clock)


@dataclass(frozen=True)
class SignInOutcome:
    """A password sign-in's result: the ``user`` when it succeeded; otherwise ``refused``
    (``"password"``: wrong name or password; ``"backoff"``: tried too soon, the password was
    not looked at; ``"locked"``: the name is locked, now or before) and ``wait_seconds``, how
    long to wait before the next try (0: at once, or locked)."""

    user: User | None
    refused: Literal["password", "backoff", "locked"] | None = None
    wait_seconds: int = 0


def sign_in_with_password(users_file: Path, username: str, password: str, *,
                          throttle: SignInThrottle, audit_log: Path,
                          address: str | None = None) -> SignInOutcome:
    """Check a password sign-in against the rate limit, then the user file.

    Every failure, refusal and lock is written to the audit log (``action``
    ``sign_in_failed``, ``sign_in_refused``, ``sign_in_locked``; ``user`` is the name as typed,
    ``subject`` the address, ``local`` when unknown). A broken user file raises
    :class:`yibao.errors.AuthError` and does not count as a failure.

    Parameters
    ----------
    users_file
        The user file (:attr:`yibao.settings.Settings.users_path`).
    username, password
        As typed in the sign-in form.
    throttle
        The rate limit's state (:func:`throttle_from_settings`).
    audit_log
        The workbench audit log (:attr:`yibao.settings.Settings.audit_path`).
    address
        The client's address (``st.context.ip_address``); ``None`` when Streamlit does not
        know it (a client on the server's own machine): then only the name is limited.
    """
    admission = throttle.admit(username, address)
    where = address or "local"

    def audit(action: str, context: str) -> None:
        append_audit(audit_log, user=admission.username, role="", action=action,
                     subject_kind="address", subject=where, context=context)

    if admission.reason == "locked":
        audit("sign_in_refused", "locked: an administrator must run 'yibao user unlock'")
        return SignInOutcome(None, "locked")
    if admission.reason == "backoff":
        audit("sign_in_refused", f"back-off: {admission.wait_seconds} s to wait")
        return SignInOutcome(None, "backoff", admission.wait_seconds)
    try:
        user = authenticate(users_file, username, password)
    except BaseException:
        throttle.cancel(admission)
        raise
    if user is not None:
        throttle.succeeded(admission)
        return SignInOutcome(user)
    failure = throttle.failed(admission)
    audit("sign_in_failed", f"{failure.failures} failure(s) within "
                            f"{throttle.limits.window_seconds:g} s")
    if failure.locked:
        audit("sign_in_locked", f"locked after {failure.failures} failures within "
                                f"{throttle.limits.window_seconds:g} s")
        return SignInOutcome(None, "locked")
    return SignInOutcome(None, "password", failure.wait_seconds)
