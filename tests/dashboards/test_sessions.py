"""Signed sign-in tokens: accepted while valid, refused when forged, expired or revoked."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards.sessions import LIFETIME_SECONDS, SessionKeys


def test_a_token_names_its_user() -> None:
    keys = SessionKeys()
    token = keys.issue("王调查", now=1000.0)
    assert keys.username(token, now=1000.0 + LIFETIME_SECONDS - 1) == "王调查"


def test_expired_token_is_refused() -> None:
    keys = SessionKeys()
    token = keys.issue("wang", now=1000.0)
    assert keys.username(token, now=1000.0 + LIFETIME_SECONDS + 1) is None


def test_another_servers_token_is_refused() -> None:
    assert SessionKeys().username(SessionKeys().issue("wang")) is None


@pytest.mark.parametrize("tamper", ["name", "expiry", "signature"])
def test_forged_token_is_refused(tamper: str) -> None:
    keys = SessionKeys()
    name, expiry, nonce, signature = keys.issue("wang").split(".")
    other = keys.issue("li").split(".")[0]
    forged = {"name": f"{other}.{expiry}.{nonce}.{signature}",
              "expiry": f"{name}.{int(expiry) + 10**6}.{nonce}.{signature}",
              "signature": f"{name}.{expiry}.{nonce}.{signature[:-2]}AA"}[tamper]
    assert keys.username(forged) is None


@pytest.mark.parametrize("token", [None, "", "abc", "a.b.c", "a.b.c.d.e", "....."])
def test_malformed_token_is_refused(token: str | None) -> None:
    assert SessionKeys().username(token) is None


def test_signing_out_revokes_the_token() -> None:
    keys = SessionKeys()
    token, other = keys.issue("wang"), keys.issue("wang")
    keys.revoke(token)
    assert keys.username(token) is None
    assert keys.username(other) == "wang"


def test_a_token_is_bound_to_the_credential_it_was_issued_for() -> None:
    keys = SessionKeys()
    token = keys.issue("wang", credential="hash-1")
    assert keys.username(token, credential_of=lambda name: "hash-1") == "wang"
    assert keys.username(token, credential_of=lambda name: "hash-2") is None  # re-keyed
    assert keys.username(token, credential_of=lambda name: None) is None  # removed


def test_resetting_a_password_revokes_the_users_tokens(tmp_path: Path) -> None:
    from dashboards.auth import add_user, credential

    users = tmp_path / "users.toml"
    add_user(users, "wang", role="investigator", password="old-pass")
    add_user(users, "li", role="leadership", password="li-pass")
    keys = SessionKeys()
    wang = keys.issue("wang", credential=credential(users, "wang") or "")
    li = keys.issue("li", credential=credential(users, "li") or "")

    def current(name: str) -> str | None:
        return credential(users, name)

    assert keys.username(wang, credential_of=current) == "wang"
    add_user(users, "wang", role="investigator", password="new-pass")  # the reset
    assert keys.username(wang, credential_of=current) is None
    assert keys.username(li, credential_of=current) == "li"  # others keep their sessions
    fresh = keys.issue("wang", credential=credential(users, "wang") or "")
    assert keys.username(fresh, credential_of=current) == "wang"
