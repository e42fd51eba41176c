"""The steering test (医药串通): a doctor's pharmacy fills against their colleagues'."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from graph.collusion import steering_tests
from tests.graph._tiny_store import Line, TinyStore

T0 = datetime(2024, 3, 1, 9)
DAY = timedelta(days=1)


def _clinic(ts: TinyStore, steered: bool) -> None:
    """One hospital with four doctors; three send their patients' prescriptions to the two
    pharmacies next door about evenly, the fourth sends almost all of his to a third."""
    hosp = ts.institution("H32058300001", admdvs="320583")
    near = [ts.institution(f"P3205830000{k}", admdvs="320583") for k in (1, 2)]
    far = ts.institution("P32058300003", admdvs="320583")
    for d in range(4):
        ts.practitioner(f"D3205830000{d}", hosp)
    for d in range(3):
        for k in range(30):
            ts.settle(f"PAT{d}{k:02d}", near[k % 2], T0 + k * DAY, [Line(dr=f"D3205830000{d}")])
    for k in range(30):
        shop = far if steered and k % 10 else near[k % 2]
        ts.settle(f"PAT3{k:02d}", shop, T0 + k * DAY, [Line(dr="D32058300003")])


def _test_of(steered: bool, tmp_path: Path) -> dict[str, float]:
    ts = TinyStore()
    _clinic(ts, steered)
    store = ts.load(tmp_path)
    with store:
        return {t.doctor: t.p_value for t in steering_tests(store.con)}


def test_a_doctor_steering_to_one_pharmacy_stands_out_from_colleagues(tmp_path: Path) -> None:
    p = _test_of(True, tmp_path)
    assert p["D32058300003"] < 1e-10
    assert min(p[f"D3205830000{d}"] for d in range(3)) > 0.05


def test_the_same_doctor_without_steering_is_ordinary(tmp_path: Path) -> None:
    p = _test_of(False, tmp_path)
    assert min(p.values()) > 0.05
