"""The sign-in rate limit with a fake clock: back-off per name and per address, lockout per name,
state shared through the file and kept across a restart, every refusal and lock audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards.audit import read_audit
from dashboards.auth import add_user
from dashboards.sign_in_limit import (
    SignInLimits,
    SignInOutcome,
    SignInThrottle,
    limits_from_settings,
    sign_in_with_password,
)
from yibao.errors import AuthError, SettingsError
from yibao.settings import Settings


class Clock:
    """A clock the test moves by hand (epoch seconds)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _audit_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit log (and the key that seals it, beside it) in the test's folder."""
    monkeypatch.setenv("YIBAO_AUDIT_LOG", str(tmp_path / "audit.jsonl"))


@pytest.fixture
def users(tmp_path: Path) -> Path:
    path = tmp_path / "users.toml"
    add_user(path, "wang", role="investigator", password="right-pass")
    add_user(path, "li", role="leadership", password="li-pass")
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(tmp_path: Path, clock: Clock) -> SignInThrottle:
    return SignInThrottle(tmp_path / "users.signin.sqlite", SignInLimits(), clock=clock)


def _try(users: Path, throttle: SignInThrottle, name: str, password: str,
         address: str | None = None) -> SignInOutcome:
    return sign_in_with_password(users, name, password, throttle=throttle,
                                 audit_log=users.with_name("audit.jsonl"), address=address)


def test_thirty_wrong_passwords_then_the_right_one_is_refused(
        users: Path, throttle: SignInThrottle, clock: Clock) -> None:
    """The issue's repro: 30 wrong passwords in a minute, then the right one."""
    for _ in range(30):
        _try(users, throttle, "wang", "guess")
        clock.now += 2
    outcome = _try(users, throttle, "wang", "right-pass")
    assert outcome.user is None
    assert outcome.refused == "locked"
    clock.now += 24 * 3600  # a lock does not expire: an administrator lifts it
    assert _try(users, throttle, "wang", "right-pass").refused == "locked"
    assert throttle.unlock("wang")
    assert _try(users, throttle, "wang", "right-pass").user is not None


def test_back_off_doubles_from_one_second_after_five_failures(
        users: Path, throttle: SignInThrottle, clock: Clock) -> None:
    for _ in range(4):
        assert _try(users, throttle, "wang", "guess").wait_seconds == 0
    fifth = _try(users, throttle, "wang", "guess")
    assert (fifth.refused, fifth.wait_seconds) == ("password", 1)
    refused = _try(users, throttle, "wang", "right-pass")  # too soon: not even looked at
    assert (refused.user, refused.refused, refused.wait_seconds) == (None, "backoff", 1)
    clock.now += 1
    assert _try(users, throttle, "wang", "guess").wait_seconds == 2
    clock.now += 1
    assert _try(users, throttle, "wang", "guess").refused == "backoff"
    clock.now += 1
    assert _try(users, throttle, "wang", "right-pass").user is not None
    # a success forgets the name's failures
    assert _try(users, throttle, "wang", "guess").wait_seconds == 0


def test_ten_failures_within_the_window_lock_but_spread_out_they_do_not(
        users: Path, throttle: SignInThrottle, clock: Clock) -> None:
    for _ in range(12):
        clock.now += 901  # each one outside the window of the one before
        assert _try(users, throttle, "wang", "guess").refused == "password"
    assert _try(users, throttle, "wang", "right-pass").user is not None
    outcomes = []
    for _ in range(10):  # within 31 s, waiting out each back-off
        outcome = _try(users, throttle, "wang", "guess")
        outcomes.append(outcome.refused)
        clock.now += outcome.wait_seconds
    assert outcomes == ["password"] * 9 + ["locked"]
    assert [lock.username for lock in throttle.locks()] == ["wang"]


@pytest.mark.slow
def test_an_address_is_slowed_down_across_names_but_never_locked(
        users: Path, throttle: SignInThrottle, clock: Clock) -> None:
    for i in range(5):
        _try(users, throttle, f"name{i}", "guess", address="10.0.0.9")
    refused = _try(users, throttle, "li", "li-pass", address="10.0.0.9")
    assert (refused.refused, refused.wait_seconds) == ("backoff", 1)
    assert _try(users, throttle, "li", "li-pass", address="10.0.0.8").user is not None
    for i in range(20):
        clock.now += 1000
        _try(users, throttle, f"other{i}", "guess", address="10.0.0.9")
    assert throttle.locks() == []
    clock.now += 1000
    assert _try(users, throttle, "li", "li-pass", address="10.0.0.9").user is not None


def test_unknown_and_known_names_are_treated_alike(users: Path, throttle: SignInThrottle,
                                                   clock: Clock) -> None:
    """The limit must not tell which user names exist."""
    seen = {}
    for name in ("wang", "nobody"):
        results = []
        for _ in range(11):
            outcome = _try(users, throttle, name, "guess")
            results.append((outcome.refused, outcome.wait_seconds))
            clock.now += outcome.wait_seconds
        seen[name] = results
    assert seen["wang"] == seen["nobody"]
    assert {lock.username for lock in throttle.locks()} == {"wang", "nobody"}


def test_state_is_shared_and_survives_a_restart(users: Path, tmp_path: Path,
                                                clock: Clock) -> None:
    path = tmp_path / "state.sqlite"
    for _ in range(10):
        # a new object per try, as after a restart or in another session
        _try(users, SignInThrottle(path, clock=clock), "wang", "guess")
        clock.now += 60
    assert _try(users, SignInThrottle(path, clock=clock), "wang", "right-pass").refused == \
        "locked"
    assert path.stat().st_mode & 0o777 == 0o600


def test_every_failure_refusal_and_lock_is_audited(users: Path, throttle: SignInThrottle,
                                                   clock: Clock) -> None:
    for _ in range(10):
        _try(users, throttle, "wang", "guess", address="10.1.2.3")
        clock.now += 60
    _try(users, throttle, "wang", "right-pass", address="10.1.2.3")
    actions = [(e.action, e.user, e.subject) for e in read_audit(users.with_name("audit.jsonl"))]
    assert actions.count(("sign_in_failed", "wang", "10.1.2.3")) == 10
    assert actions[-2:] == [("sign_in_locked", "wang", "10.1.2.3"),
                            ("sign_in_refused", "wang", "10.1.2.3")]


def test_a_broken_user_file_is_an_error_and_not_a_failure(tmp_path: Path,
                                                         throttle: SignInThrottle) -> None:
    broken = tmp_path / "users.toml"
    broken.write_text("[users.wang\n", encoding="utf-8")
    for _ in range(12):
        with pytest.raises(AuthError, match="not valid TOML"):
            _try(broken, throttle, "wang", "guess")
    assert throttle.locks() == []
    assert throttle.admit("wang").allowed


def test_a_burst_of_parallel_tries_cannot_pass_the_back_off(
        users: Path, throttle: SignInThrottle) -> None:
    """Each admitted try counts as a failure until its password proves right."""
    admitted = [throttle.admit("wang") for _ in range(20)]
    assert sum(a.allowed for a in admitted) == 5


def test_limits_come_from_the_settings() -> None:
    settings = Settings.from_env({"YIBAO_SIGNIN_LOCKOUT_AFTER": "3",
                                  "YIBAO_SIGNIN_BACKOFF_SECONDS": "2.5"})
    limits = limits_from_settings(settings)
    assert (limits.lockout_after, limits.backoff_seconds, limits.backoff_after) == (3, 2.5, 5)
    assert settings.signin_state_path == Path("users.signin.sqlite")
    with pytest.raises(SettingsError, match="YIBAO_SIGNIN_LOCKOUT_AFTER"):
        Settings.from_env({"YIBAO_SIGNIN_LOCKOUT_AFTER": "ten"})
    with pytest.raises(SettingsError, match="at least 1"):
        Settings.from_env({"YIBAO_SIGNIN_WINDOW_SECONDS": "0"})
