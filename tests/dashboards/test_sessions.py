"""Signed sign-in tokens: accepted while valid, refused when forged, expired or revoked."""

from __future__ import annotations

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
