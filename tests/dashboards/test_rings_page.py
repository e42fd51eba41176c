"""团伙: the ranked table, a ring's page (why/who/where/when/how much/network), masking and the
audit of unmasking."""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.audit import read_audit
from loaders.store import open_store
from tests.dashboards.conftest import Workbench, no_exception
from tests.detected import Detected


def _top_ring(detected: Detected) -> tuple[str, list[str]]:
    ring = max(detected.result.suspicious, key=lambda r: len(r.persons))
    return ring.ring_id, list(ring.persons)


def _full_names(db: object, persons: list[str]) -> list[str]:
    with open_store(db, read_only=True) as store:  # type: ignore[arg-type]
        rows = store.con.execute(
            "SELECT psn_name FROM persons WHERE psn_no IN (SELECT unnest($p))",
            {"p": persons}).fetchall()
    return [r[0] for r in rows]


def _persons_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "姓名" in d.value.columns)


def test_ring_table_lists_suspicious_rings(app: Callable[..., AppTest],
                                           detected: Detected) -> None:
    at = app(page="rings")
    no_exception(at)
    assert at.title[0].value.startswith("团伙")
    table = at.dataframe[0].value
    assert set(table["团伙编号"]) == {r.ring_id for r in detected.result.suspicious}


def test_pattern_filter_narrows_the_table(app: Callable[..., AppTest],
                                          detected: Detected) -> None:
    at = app(page="rings", patterns="card_pooling")
    no_exception(at)
    table = at.dataframe[0].value
    expected = {r.ring_id for r in detected.result.suspicious if r.pattern == "card_pooling"}
    assert expected
    assert set(table["团伙编号"]) == expected


def test_ring_page_answers_why_who_where_when_how_much(app: Callable[..., AppTest],
                                                        detected: Detected) -> None:
    ring_id, persons = _top_ring(detected)
    at = app(page="rings", ring=ring_id)
    no_exception(at)
    assert ring_id in at.title[0].value
    headers = [h.value for h in at.header]
    assert headers == ["为什么可疑", "涉及人员与机构", "在哪里", "什么时间", "涉及金额", "关系网络"]
    assert len(at.get("plotly_chart")) >= 5
    assert set(_persons_table(at)["人员编号"]) == set(persons)


def test_names_are_masked_and_unmasking_is_audited(app: Callable[..., AppTest],
                                                    detected: Detected,
                                                    workbench: Workbench) -> None:
    ring_id, persons = _top_ring(detected)
    full = _full_names(detected.db, persons)
    at = app(page="rings", ring=ring_id)
    shown = _persons_table(at)
    assert shown["姓名"].str.fullmatch(r".\*\*").all()
    assert shown["证件号码"].str.fullmatch(r"\w{4}\*{10}\w{4}").all()
    assert not read_audit(workbench.audit)
    at.toggle[0].set_value(True).run()
    no_exception(at)
    assert sorted(_persons_table(at)["姓名"]) == sorted(full)
    entries = read_audit(workbench.audit)
    assert [(e.user, e.action, e.subject) for e in entries] == [("wang", "unmask", ring_id)]


def test_leadership_cannot_unmask(app: Callable[..., AppTest], detected: Detected) -> None:
    ring_id, _ = _top_ring(detected)
    at = app(user="li", page="rings", ring=ring_id)
    no_exception(at)
    assert not at.toggle
    assert _persons_table(at)["姓名"].str.fullmatch(r".\*\*").all()
    assert any("脱敏" in c.value for c in at.caption)


def test_unknown_ring_says_so(app: Callable[..., AppTest]) -> None:
    at = app(page="rings", ring="RFFFFFFFFFF")
    no_exception(at)
    assert any("RFFFFFFFFFF" in w.value for w in at.warning)


def _yuan_after(text: str, label: str) -> float:
    """The first ``1,234.56 元`` amount after ``label`` in ``text``."""
    found = re.search(label + r" ([\d,]+\.\d\d) (?:元|yuan)", text)
    assert found is not None, text
    return float(found.group(1).replace(",", ""))


def test_header_shows_the_whole_ring_and_the_period_part(app: Callable[..., AppTest],
                                                         detected: Detected) -> None:
    """The header's first figure is the whole ring (统筹 + 个人账户, whatever the period), the
    caption the chosen period's part of it."""
    ring_id, _ = _top_ring(detected)
    ring = next(r for r in detected.result.rings if r.ring_id == ring_id)
    whole = app(page="rings", ring=ring_id)
    q1 = app(page="rings", ring=ring_id, **{"from": "2024-01-01", "to": "2024-03-31"})
    for at in (whole, q1):
        header = next(m.value for m in at.markdown if "涉及医保基金" in m.value)
        assert _yuan_after(header, r"\*\*涉及医保基金") == pytest.approx(ring.fund_amount,
                                                                      abs=0.005)
        pool, account = _yuan_after(header, "统筹基金"), _yuan_after(header, "个人账户")
        assert pool + account == pytest.approx(ring.fund_amount, abs=0.005)
    part = [_yuan_after(next(c.value for c in at.caption if "所选时间范围" in c.value),
                        "涉及医保基金") for at in (whole, q1)]
    assert part[0] == pytest.approx(ring.fund_amount, abs=0.005)  # the period is all the data
    assert part[1] < part[0]


def test_why_shows_the_test_and_the_stored_flag_line(app: Callable[..., AppTest],
                                                     detected: Detected) -> None:
    ring_id, _ = _top_ring(detected)
    at = app(page="rings", ring=ring_id)
    shown = "\n".join(m.value for m in at.markdown)
    assert "证据强度" in shown
    assert "可疑标记线 0.10" in shown  # the run's stored line: fdr 0.01, surprise_full 20
    assert "判定：可疑" in shown
    assert "p = " in shown
    assert "q = " in shown
    assert "没有成立的正常解释" in shown
    assert "权重" not in shown
    assert "贡献" not in shown
    # each ring is explained by its own test: co-settlements against the expected count for a
    # pooling ring, the colleagues' prescriptions for steering, no chance for hard evidence
    nulls = {"card_pooling": "期望", "doctor_pharmacy_collusion": "该医师的处方",
             "resale_chain": "确凿证据"}
    for pattern, phrase in nulls.items():
        ring = next(r for r in detected.result.suspicious if r.pattern == pattern)
        page = app(page="rings", ring=ring.ring_id)
        assert phrase in "\n".join(m.value for m in page.markdown), pattern


def test_an_explained_ring_names_its_explanation(app: Callable[..., AppTest],
                                                 detected: Detected) -> None:
    from dashboards.i18n import EXPLANATIONS

    ring = next((r for r in detected.result.rings if r.explanation), None)
    if ring is None:
        pytest.skip("no honest look-alike was cleared by an explanation in this data")
    for lang, i in (("zh", 0), ("en", 1)):
        at = app(page="rings", ring=ring.ring_id, lang=lang)
        no_exception(at)
        shown = "\n".join(m.value for m in at.markdown)
        assert EXPLANATIONS[ring.explanation][i] in shown


def test_english_ring_page(app: Callable[..., AppTest], detected: Detected) -> None:
    ring_id, _ = _top_ring(detected)
    at = app(page="rings", ring=ring_id, lang="en")
    no_exception(at)
    assert at.title[0].value.startswith("Ring ")
    assert "Why" in [h.value for h in at.header]
    header = next(m.value for m in at.markdown if "Insurance money" in m.value)
    why = next(m.value for m in at.markdown if "Verdict" in m.value)
    period_part = next(c.value for c in at.caption if "chosen period" in c.value)
    assert "pooled fund" in header
    assert "personal account" in header
    assert "insurance money" in period_part
    assert "evidence strength" in "\n".join(m.value for m in at.markdown)
    for shown in (header, why, period_part):
        assert not re.search(r"[\u4e00-\u9fff]", shown), shown


def test_big_ring_timeline_is_per_day(app: Callable[..., AppTest], detected: Detected,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond the per-member limit the timeline shows days × institutions, and its table sums
    to the ring's settlements in the period."""
    ring_id, persons = _top_ring(detected)
    monkeypatch.setattr("dashboards.figures.timelines.PER_PERSON_UP_TO", len(persons) - 1)
    at = app(page="rings", ring=ring_id)
    no_exception(at)
    assert any("每个圆点是一天" in c.value for c in at.caption)
    days = next(d.value for d in at.dataframe if "日期" in d.value.columns)
    whole = next(c.value for c in at.caption if "所选时间范围" in c.value)
    settlements = int(re.search(r"结算 ([\d,]+) 笔", whole).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert days["结算笔数"].sum() == settlements
    assert (days["人数"] <= len(persons)).all()


def test_network_table_shows_masked_names(app: Callable[..., AppTest],
                                          detected: Detected) -> None:
    ring_id, persons = _top_ring(detected)
    at = app(page="rings", ring=ring_id)
    nodes = next(d.value for d in at.dataframe if "连接数" in d.value.columns)
    people = nodes[nodes["类别"] == "人员"]
    assert len(people) == len(persons)
    assert people["名称"].str.fullmatch(r".\*\*").all()
