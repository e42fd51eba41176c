"""User file (scrypt hashes, roles) and the append-only audit log, sealed with the ledger key
(edits, deletions, reordering and a cut tail found by ``verify_audit`` / ``yibao audit
verify``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboards.audit import append_audit, read_audit, verify_audit
from dashboards.auth import add_user, authenticate, read_users, user_by_email, verify_password
from yibao.errors import AuthError
from yibao.leads.seal import ChainKey, SealOptions, canonical_json


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


# -- the sealed chain of the audit log (issue 17, item 4) ---------------------------------


def _log(tmp_path: Path, n: int = 4, *, anchor: bool = True) -> tuple[Path, SealOptions]:
    log = tmp_path / "audit.jsonl"
    seal = SealOptions(tmp_path / "secret" / "ledger.key", log,
                       tmp_path / "elsewhere" / "anchor.jsonl" if anchor else None)
    for k in range(1, n + 1):
        append_audit(log, user="wang", role="investigator", action="unmask",
                     subject_kind="person", subject=f"P{k}", seal=seal)
    return log, seal


def _lines(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines(keepends=True)


def test_every_line_is_sealed_and_anchored(tmp_path: Path) -> None:
    log, seal = _log(tmp_path)
    entries = read_audit(log)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert all(e.mac and e.mac.startswith("hmac:") for e in entries)
    assert (tmp_path / "secret" / "ledger.key").stat().st_mode & 0o777 == 0o600
    report = verify_audit(log, seal=seal)
    assert report.ok, report.problems
    assert (report.lines, report.anchored, report.first_bad) == (4, 4, None)
    assert str(report).startswith("审计日志完整 / audit log intact")


@pytest.mark.parametrize(("tamper", "first_bad", "problem"), [
    ("edit", 2, "line #2: MAC does not match"),
    ("delete_middle", 2, "line #2: has sequence number 3"),
    ("reorder", 2, "line #2: has sequence number 3"),
    ("delete_last", 4, "line #4-#4 missing: the checkpoint of"),
])
def test_tampering_is_found(tmp_path: Path, tamper: str, first_bad: int, problem: str) -> None:
    log, seal = _log(tmp_path)
    lines = _lines(log)
    if tamper == "edit":
        lines[1] = lines[1].replace('"P2"', '"P9"')
    elif tamper == "delete_middle":
        del lines[1]
    elif tamper == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        del lines[-1]
    log.write_text("".join(lines), encoding="utf-8")
    report = verify_audit(log, seal=seal)
    assert not report.ok
    assert report.first_bad == first_bad
    assert report.problems[0].startswith(problem)
    assert f"first bad line #{first_bad}" in str(report)


def test_macs_recomputed_without_the_key_are_found(tmp_path: Path) -> None:
    log, seal = _log(tmp_path)
    lines = [json.loads(line) for line in _lines(log)]
    lines[1]["subject"] = "P9"
    forger, prev = ChainKey(b"\x02" * 32), lines[0]["mac"]
    for row in lines[1:]:
        row["mac"] = forger.mac(prev, canonical_json(
            {k: v for k, v in row.items() if k != "mac"}).encode())
        prev = row["mac"]
    log.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines),
                   encoding="utf-8")
    report = verify_audit(log, seal=seal)
    assert report.first_bad == 2
    assert len(report.problems) >= 3


def test_without_an_anchor_a_cut_tail_is_not_seen(tmp_path: Path) -> None:
    log, seal = _log(tmp_path, anchor=False)
    log.write_text("".join(_lines(log)[:-1]), encoding="utf-8")
    report = verify_audit(log, seal=seal)
    assert report.ok
    assert "no checkpoint found" in str(report)


def test_a_log_from_before_keying_is_a_legacy_segment(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    old = [{"at": "2024-05-01T01:00:00+00:00", "user": "li", "role": "investigator",
            "action": "unmask", "subject_kind": "ring", "subject": f"R{k}", "context": ""}
           for k in (1, 2)]
    log.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in old),
                   encoding="utf-8")
    seal = SealOptions(tmp_path / "ledger.key", log)
    assert verify_audit(log, seal=seal).ok
    entry = append_audit(log, user="wang", role="investigator", action="unmask",
                         subject_kind="person", subject="P1", seal=seal)
    assert entry.seq == 3
    assert [e.subject for e in read_audit(log)] == ["R1", "R2", "P1"]
    report = verify_audit(log, seal=seal)
    assert report.ok, report.problems
    assert report.legacy == 2
    assert "lines 1-2 are an unkeyed legacy segment" in str(report)
    log.write_text(log.read_text(encoding="utf-8").replace('"R1"', '"R7"'), encoding="utf-8")
    broken = verify_audit(log, seal=seal)
    assert broken.first_bad == 3  # the first keyed line sealed the legacy bytes


def test_audit_verify_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from yibao.cli import cli

    log, seal = _log(tmp_path)
    assert seal.anchor_path is not None
    env = {"YIBAO_DB": str(tmp_path / "store.duckdb"), "YIBAO_AUDIT_LOG": str(log),
           "YIBAO_LEDGER_KEY": str(seal.key_path), "YIBAO_ANCHOR": str(seal.anchor_path)}
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "audit log intact" in ok.stderr
    log.write_text("".join(_lines(log)[:-1]), encoding="utf-8")
    out = runner.invoke(cli, ["audit", "verify"], env=env)
    assert out.exit_code == 1, out.output
    assert "first bad line #4" in out.stderr
    no_key = runner.invoke(cli, ["audit", "verify"],
                           env={**env, "YIBAO_LEDGER_KEY": str(tmp_path / "lost.key")})
    assert no_key.exit_code == 2
    assert "YIBAO_LEDGER_KEY" in no_key.stderr
