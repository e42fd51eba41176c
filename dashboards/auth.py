"""Workbench users: a TOML user file with scrypt-hashed passwords, and the roles they carry.

The file (``YIBAO_USERS``, default ``users.toml`` beside the store) looks like::

    [users.wang]
    display_name = "王调查"
    role = "investigator"
    password = "scrypt$16384$8$1$<salt>$<hash>"

    [users.li]
    display_name = "李处长"
    role = "leadership"
    email = "li@example.gov.cn"      # matched when the organisation's OIDC signs the user in

The role comes from this file, never from a switch in the page: ``investigator`` may unmask a
person (each unmasking is audited); ``leadership`` always sees masked data. Passwords are hashed
with :func:`hashlib.scrypt` (standard library, memory-hard), compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import tomli_w

from yibao.errors import AuthError

__all__ = [
    "ROLES",
    "Role",
    "User",
    "add_user",
    "authenticate",
    "credential",
    "hash_password",
    "read_users",
    "user_by_email",
    "verify_password",
]

Role = Literal["investigator", "leadership"]
ROLES: tuple[Role, ...] = ("investigator", "leadership")

_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True)
class User:
    """A signed-in user: login name, display name, role, optional e-mail (for OIDC)."""

    username: str
    display_name: str
    role: Role
    email: str | None = None
    masked_view: bool = False
    """A view made to be shown to others (the workbench's screenshot mode): nothing personal is
    revealed in it, whatever the role."""

    @property
    def may_unmask(self) -> bool:
        """Only investigators may reveal a person's name, ID number and phone, and never in a
        masked view."""
        return self.role == "investigator" and not self.masked_view


def hash_password(password: str) -> str:
    """An scrypt hash string ``scrypt$N$r$p$salt$hash`` (base64 parts)."""
    if not password:
        raise AuthError("a password may not be empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the stored scrypt hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _records(path: Path) -> dict[str, dict[str, object]]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AuthError(f"user file {path} is not valid TOML: {exc}") from exc
    users = data.get("users", {})
    if not isinstance(users, dict):
        raise AuthError(f"user file {path}: expected [users.NAME] tables")
    return cast(dict[str, dict[str, object]], users)


def _user(username: str, rec: dict[str, object], path: Path) -> User:
    role = rec.get("role")
    if role not in ROLES:
        raise AuthError(
            f"user {username!r} in {path} has role {role!r}: use one of {list(ROLES)}"
        )
    email = rec.get("email")
    return User(username=username, display_name=str(rec.get("display_name") or username),
                role=role, email=str(email) if email else None)


def read_users(path: Path) -> list[User]:
    """Every user in the file (without password hashes)."""
    return [_user(name, rec, path) for name, rec in _records(path).items()]


def authenticate(path: Path, username: str, password: str) -> User | None:
    """The user if the name exists and the password matches, else ``None``.

    A missing user still costs one scrypt hash, so timing does not reveal which names exist.
    """
    rec = _records(path).get(username.strip())
    stored = str(rec.get("password", "")) if rec else ""
    ok = verify_password(password, stored or hash_password("timing-equaliser"))
    if not (rec and stored and ok):
        return None
    return _user(username.strip(), rec, path)


def credential(path: Path, username: str) -> str | None:
    """What a sign-in token is bound to: the user's password hash and e-mail as the file holds
    them now (``None`` when the user is gone), so re-keying a user revokes their tokens."""
    rec = _records(path).get(username)
    if rec is None:
        return None
    return f"{rec.get('password', '')}|{rec.get('email', '')}|{rec.get('role', '')}"


def user_by_email(path: Path, email: str) -> User | None:
    """The user whose ``email`` matches (case-insensitive): the OIDC sign-in's role lookup."""
    for user in read_users(path):
        if user.email and user.email.lower() == email.strip().lower():
            return user
    return None


def add_user(path: Path, username: str, *, role: str, password: str | None = None,
             display_name: str | None = None, email: str | None = None) -> User:
    """Add or replace a user in the file (written atomically, mode 0600)."""
    if role not in ROLES:
        raise AuthError(f"role {role!r} is not known: use one of {list(ROLES)}")
    if not username or not username.replace("-", "").replace("_", "").isalnum():
        raise AuthError(f"user name {username!r}: use letters, digits, '-' or '_'")
    if password is None and email is None:
        raise AuthError("give a password, an e-mail for OIDC sign-in, or both")
    users = _records(path)
    rec: dict[str, object] = {"display_name": display_name or username, "role": role}
    if email:
        rec["email"] = email
    if password is not None:
        rec["password"] = hash_password(password)
    users[username] = rec
    # a TOML library quotes what needs quoting (a Chinese user name is not a bare key)
    text = "# yibao-graph workbench users (passwords are scrypt hashes)\n\n" + tomli_w.dumps(
        {"users": {name: {k: str(v) for k, v in r.items()} for name, r in users.items()}}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return _user(username, rec, path)
