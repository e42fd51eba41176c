"""Signed sign-in tokens, so a browser reload does not ask for the password again.

Streamlit starts a new session (and forgets ``st.session_state``) on every reload. After a
sign-in with the user file, the workbench keeps a token in a cookie of its own origin
(``yibao_session``, ``SameSite=Strict``, eight hours); a new session that brings a valid token
is signed in as that user again, with the role read from the user file at that moment (a
user removed from the file, or whose role changed, is not let in on an old token).

A token is ``username.expiry.nonce.signature``: HMAC-SHA256 over the rest, and over the user's
credential as the user file holds it at that moment (their password hash), with a key that
lives only in the server process (:class:`SessionKeys`). Resetting a user's password (``yibao
user add`` again) therefore revokes every token issued before it. Restarting the workbench therefore
signs everybody out, and signing out revokes the token's nonce on the server as well as
deleting the cookie. No personal data is in the token; it is not encrypted, only signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["COOKIE", "LIFETIME_SECONDS", "SessionKeys"]

COOKIE = "yibao_session"
LIFETIME_SECONDS = 8 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SessionKeys:
    """The server's signing key and the nonces revoked by signing out (thread-safe)."""

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _revoked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _sign(self, payload: str, credential: str = "") -> str:
        message = payload.encode() + b"|" + credential.encode()
        return _b64(hmac.new(self.key, message, hashlib.sha256).digest())

    def issue(self, username: str, *, credential: str = "", now: float | None = None,
              lifetime: float = LIFETIME_SECONDS) -> str:
        """A token for ``username`` valid for ``lifetime`` seconds from ``now``, bound to the
        user's ``credential`` (see :func:`dashboards.auth.credential`)."""
        expiry = int((time.time() if now is None else now) + lifetime)
        payload = f"{_b64(username.encode())}.{expiry}.{secrets.token_urlsafe(12)}"
        return f"{payload}.{self._sign(payload, credential)}"

    def username(self, token: str | None, *, now: float | None = None,
                 credential_of: Callable[[str], str | None] | None = None) -> str | None:
        """The user a token was issued to, or ``None`` when it is missing, malformed, forged,
        expired, revoked, or issued before the user's credential changed (``credential_of``:
        the user's current credential by name, ``None`` for a user who no longer exists)."""
        if not token or token.count(".") != 3:
            return None
        name, expiry, nonce, signature = token.split(".")
        credential = ""
        if credential_of is not None:
            try:
                username = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            found = credential_of(username)
            if found is None:
                return None
            credential = found
        if not hmac.compare_digest(self._sign(f"{name}.{expiry}.{nonce}", credential),
                                   signature):
            return None
        with self._lock:
            if nonce in self._revoked:
                return None
        try:
            if int(expiry) < (time.time() if now is None else now):
                return None
            return base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def revoke(self, token: str | None) -> None:
        """Refuse ``token`` from now on (signing out)."""
        if token and token.count(".") == 3:
            with self._lock:
                self._revoked.add(token.split(".")[2])
