"""The keyed ledger chain and its checkpoints: ``verify()`` finds a deleted tail, a deleted or
reordered event, and an edit with every later hash recomputed without the key; ledgers written
before keying verify as an unkeyed legacy segment that new events chain from."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.leads.ledger_helpers import Clock, draft
from yibao.cli import cli
from yibao.errors import SettingsError
from yibao.leads.audit import GENESIS, event_hash, event_mac
from yibao.leads.model import LeadEvent
from yibao.leads.seal import ChainKey, SealOptions, load_key
from yibao.leads.sqlite_ledger import SqliteLedger

Mac = Callable[[str, LeadEvent], str]


def _sealed(tmp_path: Path, clock: Clock, *, anchor: bool = True) -> SqliteLedger:
    seal = SealOptions(tmp_path / "keys" / "ledger.key", tmp_path / "audit.jsonl",
                       tmp_path / "elsewhere" / "anchor.jsonl" if anchor else None)
    return SqliteLedger(tmp_path / "leads.sqlite", clock=clock, seal=seal)


def _fill(ledger: SqliteLedger, clock: Clock) -> SqliteLedger:
    a = ledger.add(draft(1), by="张三")
    ledger.add(draft(2), by="张三")
    clock.advance(hours=1)
    a = ledger.transition(a.lead_id, "checking", expected_version=1, by="李四")
    a = ledger.update(a.lead_id, {"owner": "李四"}, expected_version=2, by="李四")
    ledger.link(a.lead_id, "practitioners", ["D1"], expected_version=3, by="李四")
    ledger.add(draft(3), by="王五")  # event #6, the last: a whole new lead
    return ledger


@pytest.fixture
def sealed(tmp_path: Path, clock: Clock) -> SqliteLedger:
    return _fill(_sealed(tmp_path, clock), clock)


def _sql(ledger: SqliteLedger, *statements: str) -> None:
    with closing(sqlite3.connect(ledger.path, isolation_level=None)) as con:
        con.execute("DROP TRIGGER IF EXISTS lead_events_no_update")
        con.execute("DROP TRIGGER IF EXISTS lead_events_no_delete")
        con.execute("DROP TRIGGER IF EXISTS leads_no_delete")
        for statement in statements:
            con.execute(statement)


def _delete_last_lead(ledger: SqliteLedger) -> None:
    """The attack of the issue: the last event and the lead it created vanish, so every lead
    left still matches its history."""
    _sql(ledger, "DELETE FROM lead_events WHERE seq = 6",
         "DELETE FROM lead_links WHERE lead_id = 'XS-2024-000003'",
         "DELETE FROM leads WHERE lead_id = 'XS-2024-000003'")


def _rechain(ledger: SqliteLedger, mac: Mac, *, edit_seq: int, note: str) -> None:
    """Edit event ``edit_seq``'s note and recompute every hash from it on with ``mac``."""
    events = ledger.events()
    prev = events[edit_seq - 2].hash if edit_seq > 1 else GENESIS
    rows = []
    for e in events[edit_seq - 1:]:
        e = dataclasses.replace(e, prev_hash=prev, note=note if e.seq == edit_seq else e.note)
        e = dataclasses.replace(e, hash=mac(prev, e))
        rows.append(f"UPDATE lead_events SET note = '{e.note}', prev_hash = '{e.prev_hash}', "
                     f"hash = '{e.hash}' WHERE seq = {e.seq}")
        prev = e.hash
    _sql(ledger, *rows)


def test_the_key_lives_outside_the_ledger_with_mode_0600(sealed: SqliteLedger,
                                                        tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "ledger.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    secret = key_file.read_text().strip()
    assert len(secret) == 64
    assert secret.encode() not in sealed.path.read_bytes()
    assert secret.encode() not in (tmp_path / "audit.jsonl").read_bytes()
    assert all(e.hash.startswith("hmac:") for e in sealed.events())
    report = sealed.verify()
    assert report.ok, report.problems
    assert (report.anchored, report.legacy, report.first_bad) == (6, 0, None)
    assert "checkpoints confirm events up to #6" in str(report)
    key_file.chmod(0o644)
    with pytest.raises(SettingsError, match=r"chmod 600 .*ledger\.key"):
        load_key(key_file, create=False)


def test_deleting_the_last_event_is_caught_by_the_checkpoint(sealed: SqliteLedger) -> None:
    _delete_last_lead(sealed)
    report = sealed.verify()
    assert not report.ok
    assert report.first_bad == 6
    assert report.problems[0].startswith("event #6-#6 missing: the checkpoint of ")
    assert "(the last entries were deleted)" in report.problems[0]
    assert "first bad event #6" in str(report)
    assert "restore the ledger from a backup" in str(report)


def test_deleting_the_tail_of_ledger_and_audit_log_is_caught_by_the_anchor(
        sealed: SqliteLedger, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    lines = audit.read_text(encoding="utf-8").splitlines(keepends=True)
    audit.write_text("".join(lines[:-1]), encoding="utf-8")  # the checkpoint of #6 goes too
    _delete_last_lead(sealed)
    report = sealed.verify()
    assert report.first_bad == 6
    assert any("anchor.jsonl recorded #6" in p for p in report.problems)


def test_without_any_checkpoint_a_deleted_tail_cannot_be_seen(tmp_path: Path,
                                                             clock: Clock) -> None:
    """What the anchor is for: a keyed chain alone stays valid when its tail is cut."""
    ledger = _fill(SqliteLedger(tmp_path / "leads.sqlite", clock=clock), clock)
    _delete_last_lead(ledger)
    report = ledger.verify()
    assert report.ok
    assert "no checkpoint found: deleting the last events cannot be detected" in str(report)


def test_deleting_an_event_in_the_middle(sealed: SqliteLedger) -> None:
    _sql(sealed, "DELETE FROM lead_events WHERE seq = 3")
    report = sealed.verify()
    assert report.first_bad == 3
    assert report.problems[0] == "event #3: found sequence number 4, events #3-#3 missing (deleted)"


def test_reordering_two_events(sealed: SqliteLedger) -> None:
    _sql(sealed, "UPDATE lead_events SET seq = -4 WHERE seq = 4",
         "UPDATE lead_events SET seq = 4 WHERE seq = 5",
         "UPDATE lead_events SET seq = 5 WHERE seq = -4")
    report = sealed.verify()
    assert not report.ok
    assert report.first_bad == 4
    assert report.problems[0].startswith("event #4: does not follow the event before it")


@pytest.mark.parametrize("forger", ["sha256", "another key"])
def test_an_edit_with_every_later_hash_recomputed(sealed: SqliteLedger, forger: str) -> None:
    if forger == "sha256":
        mac: Mac = event_hash
    else:
        wrong = ChainKey(b"\x01" * 32)

        def mac(prev: str, event: LeadEvent) -> str:
            return event_mac(wrong, prev, event)

    _rechain(sealed, mac, edit_seq=3, note="无事发生")
    report = sealed.verify()
    assert not report.ok
    assert report.first_bad == 3
    assert report.problems[0].startswith("event #3 (XS-2024-000001 v2): ")


def test_verify_without_the_key_says_which_setting(sealed: SqliteLedger,
                                                   tmp_path: Path) -> None:
    (tmp_path / "keys" / "ledger.key").rename(tmp_path / "lost.key")
    fresh = SqliteLedger(sealed.path, seal=sealed.seal)
    with pytest.raises(SettingsError, match="YIBAO_LEDGER_KEY"):
        fresh.verify()


def _make_legacy(ledger: SqliteLedger) -> None:
    """Rewrite the ledger as code before keying wrote it: plain SHA-256, no key file."""
    _rechain(ledger, event_hash, edit_seq=1, note="")
    assert ledger.seal.key_path.exists()
    ledger.seal.key_path.unlink()


def test_a_ledger_written_before_keying_is_a_legacy_segment(tmp_path: Path,
                                                            clock: Clock) -> None:
    ledger = _fill(SqliteLedger(tmp_path / "leads.sqlite", clock=clock), clock)
    _make_legacy(ledger)
    old = SqliteLedger(ledger.path, clock=clock)
    report = old.verify()
    assert report.ok, report.problems
    assert report.legacy == 6
    assert "events #1-#6 are an unkeyed legacy segment" in str(report)
    assert not old.seal.key_path.exists()  # verifying never creates the key

    old.add(draft(9), by="赵六")  # new events chain from the legacy ones
    events = old.events()
    assert events[6].prev_hash == events[5].hash
    assert events[6].hash.startswith("hmac:")
    after = old.verify()
    assert after.ok, after.problems
    assert after.legacy == 6

    _rechain(old, event_hash, edit_seq=2, note="改过")  # the legacy part, rewritten ...
    _sql(old, f"UPDATE lead_events SET prev_hash = '{events[6].prev_hash}' WHERE seq = 7")
    broken = old.verify()
    assert broken.first_bad == 7  # ... no longer leads to the first keyed event
    assert broken.problems[0].startswith("event #7: does not follow")


def test_leads_verify_cli_names_the_first_bad_event(tmp_path: Path, clock: Clock) -> None:
    db = tmp_path / "store.duckdb"
    env = {"YIBAO_BACKEND": "embedded", "YIBAO_DB": str(db)}
    runner = CliRunner()
    settings_ledger = SqliteLedger(
        tmp_path / "leads.sqlite", clock=clock,
        seal=SealOptions(tmp_path / "ledger.key", tmp_path / "audit.jsonl"))
    _fill(settings_ledger, clock)
    ok = runner.invoke(cli, ["leads", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "ledger intact: 6 events" in ok.stderr
    _delete_last_lead(settings_ledger)
    out = runner.invoke(cli, ["leads", "verify"], env=env)
    assert out.exit_code == 1, out.output
    assert "first bad event #6" in out.stderr
    assert "event #6-#6 missing" in out.stderr
    missing = runner.invoke(cli, ["leads", "verify", "--anchor", str(tmp_path / "none")],
                            env=env)
    assert missing.exit_code == 2
    assert "anchor file" in missing.stderr


def test_processes_racing_to_create_the_key_share_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "k" / "ledger.key"
    code = ("import sys; from pathlib import Path; from yibao.leads.seal import load_key; "
            "key = load_key(Path(sys.argv[1]), create=True); print(key.secret.hex())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                              text=True) for _ in range(8)]
    secrets = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(secrets) == 1
    assert [p.name for p in path.parent.iterdir()] == ["ledger.key"]
