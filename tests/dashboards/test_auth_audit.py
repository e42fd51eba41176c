"""User file (scrypt hashes, roles) and the append-only audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards.audit import append_audit, read_audit
from dashboards.auth import add_user, authenticate, read_users, user_by_email, verify_password
from yibao.errors import AuthError


def test_passwords_are_hashed_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    add_user(path, "wang", role="investigator", password="s3cret-密码")
    text = path.read_text(encoding="utf-8")
    assert "s3cret" not in text
    assert "scrypt$" in text
    assert (path.stat().st_mode & 0o777) == 0o600
    user = authenticate(path, "wang", "s3cret-密码")
    assert user is not None
    assert user.role == "investigator"
    assert user.may_unmask
    assert authenticate(path, "wang", "s3cret") is None
    assert authenticate(path, "nobody", "s3cret-密码") is None


def test_roles_and_oidc_lookup(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    add_user(path, "li", role="leadership", email="Li@Example.gov.cn", display_name="李处长")
    add_user(path, "wang", role="investigator", password="p")
    assert {u.username: u.role for u in read_users(path)} == {"li": "leadership",
                                                              "wang": "investigator"}
    user = user_by_email(path, "li@example.gov.cn")
    assert user is not None
    assert not user.may_unmask
    assert user.display_name == "李处长"
    assert authenticate(path, "li", "") is None  # an OIDC-only user has no password


def test_bad_roles_and_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    with pytest.raises(AuthError, match="investigator"):
        add_user(path, "x", role="admin", password="p")
    with pytest.raises(AuthError, match="letters"):
        add_user(path, "a b", role="leadership", password="p")
    path.write_text('[users.x]\nrole = "root"\n', encoding="utf-8")
    with pytest.raises(AuthError, match="root"):
        read_users(path)


def test_tampered_hash_never_verifies() -> None:
    assert not verify_password("p", "md5$abc")
    assert not verify_password("p", "scrypt$bad")


def test_audit_log_appends(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    append_audit(log, user="wang", role="investigator", action="unmask",
                 subject_kind="ring", subject="R1")
    append_audit(log, user="wang", role="investigator", action="unmask",
                 subject_kind="person", subject="张三的编号")
    entries = read_audit(log)
    assert [(e.subject_kind, e.subject) for e in entries] == [("ring", "R1"),
                                                              ("person", "张三的编号")]
    assert all(e.at.endswith("+00:00") for e in entries)
