"""One ring, one amount: 涉及医保基金 of the top suspicious ring is the same to the cent in every
place that shows it (``yibao detect --json``, the ring page's header, the ring's evidence
sentence, its lead, the briefing) and equals a sum written here by hand over the raw tables.

Each figure is checked against that independent SQL sum, not against another figure, so a place
that drifted (统筹 only, or a different set of settlements) fails on its own line.
"""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from dashboards.data.rings import ring_fund
from loaders.store import open_store
from tests.detected import Detected
from yibao.brief.facts import facts_from_store
from yibao.brief.scope import DELTA
from yibao.cli import cli
from yibao.leads.from_detection import lead_drafts_from_store

_BY_HAND = """
    SELECT sum(coalesce(s.fund_pay_sumamt, 0) + coalesce(s.acct_pay, 0))::DOUBLE,
           sum(coalesce(s.fund_pay_sumamt, 0))::DOUBLE, sum(coalesce(s.acct_pay, 0))::DOUBLE
    FROM ring_settlements rs JOIN settlements s USING (setl_id) WHERE rs.ring_id = ?"""

_EVIDENCE = re.compile(r"涉及医保基金 (-?[\d,]+\.\d\d) 元（统筹 (-?[\d,]+\.\d\d) 元，"
                       r"个人账户 (-?[\d,]+\.\d\d) 元）")


def _cents(value: object) -> int:
    """``value`` (yuan: a float, a Decimal or a ``1,234.56`` string) in whole cents."""
    text = str(value).replace(",", "")
    return int((Decimal(text) * 100).quantize(Decimal(1)))


def _evidence_money(sentences: list[str]) -> tuple[int, int, int]:
    """(total, 统筹, 个人账户) in cents from the ring's Chinese evidence sentence."""
    found = [m for s in sentences if (m := _EVIDENCE.search(s))]
    assert len(found) == 1, f"one money sentence expected in {sentences}"
    total, pool, account = found[0].groups()
    return _cents(total), _cents(pool), _cents(account)


def test_the_top_ring_has_one_amount_everywhere(detected: Detected, tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copy(detected.db, db)
    result = CliRunner().invoke(cli, ["detect", "--db", str(db), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    rings = json.loads(result.stdout)["rings"]
    suspicious = [r for r in rings if r["suspicious"]]
    assert suspicious, "the synthetic data plants rings: detection must flag some"
    top = min(suspicious, key=lambda r: r["rank"])
    ring_id = top["ring_id"]

    with open_store(db) as store:
        con = store.con
        by_hand = {r["ring_id"]: tuple(_cents(x) for x in con.execute(_BY_HAND, [r["ring_id"]])
                                       .fetchall()[0]) for r in suspicious}
        total, pool, account = by_hand[ring_id]
        assert pool > 0
        assert account > 0  # so a figure that forgets 个人账户 (or 统筹) fails
        assert pool + account == total

        # yibao detect --json, every suspicious ring: the whole and its two parts
        for r in suspicious:
            want = by_hand[r["ring_id"]]
            assert _cents(r["fund_amount"]) == want[0], r["ring_id"]
            assert (_cents(r["fund_pool"]), _cents(r["fund_account"])) == want[1:], r["ring_id"]

        # the ring page's header (whole ring), from its data function
        money = ring_fund(con, ring_id)
        assert (_cents(money.fund), _cents(money.pool), _cents(money.account)) == by_hand[ring_id]
        assert money.settlements == con.execute(
            "SELECT count(*) FROM ring_settlements WHERE ring_id = ?", [ring_id]).fetchall()[0][0]

        # the evidence sentence detection wrote, every suspicious ring
        evidence = dict(con.execute("SELECT ring_id, evidence_zh FROM rings").fetchall())
        for r in suspicious:
            assert _evidence_money(list(evidence[r["ring_id"]])) == by_hand[r["ring_id"]]

        # its lead
        drafts = {d.source_ref: d for d in lead_drafts_from_store(con) if d.source == "ring"}
        assert _cents(drafts[ring_id].amount_involved) == total

        # the briefing on all the data and the whole Delta
        facts = facts_from_store(con, region=DELTA, top=len(rings))
        line = next(r for r in facts.top_rings if r.ring_id == ring_id)
        assert _cents(line.fund) == total
