"""Benchmark: the workbench's pages in a real browser, from request to rendered page, at 1M
settlements, and the memory of the app's process.

``python -m benchmarks.app [--scale 1000000] [--seed 1] [--repeats 5] [--ring-members 500]
[--json]``

1. **The store.** The synthetic data set is loaded and detected once and cached under
   ``benchmarks/.data`` (``app-SCALE-SEED[-ringN].duckdb``): a copy of the loaded store of
   :mod:`benchmarks.detect` (or, with a planted ring, of a load of its own data set) with
   :func:`graph.detect.detect` run on it in a child process.
2. **A 500-member ring.** The synthetic planters draw their rings' sizes from fixed ranges (10 to
   50 persons; :mod:`yibao.synth` has no setting for it), so a 1M data set holds no ring near 500
   members. With ``--ring-members N`` (default 500; 0 = the plain data set) the data set gets one
   extra doctor-pharmacy collusion scenario of ``N`` patients, planted with synth's own
   :class:`~yibao.synth._planter.Planter` as synth's ``doctor_pharmacy_collusion`` plants its
   15-50 (every patient fills one to three prescriptions): synth's code is unchanged, the
   benchmark adds the scenario while :func:`yibao.synth.synthesize` plans its scenarios. The
   data set is cached as ``load-SCALE-SEED-ringN``; detection finds the scenario as a rule ring
   (``DOCTOR_PHARMACY_CONCENTRATION``). The ring page measured is the largest ring in the store
   (all rings, suspicious or not).
3. **The app.** ``python -m streamlit run dashboards/app.py`` on a free loopback port over that
   store (a fresh user file and audit log in a temporary folder), as in the browser tests; its
   process tree's resident memory is sampled every 50 ms from start to end (psutil).
4. **The browser.** Debian's chromium (Playwright, 1600x1000) signs in through the form on the
   search page, then, inside the same session (``history.pushState`` + ``popstate``, as the
   browser's back/forward buttons do), opens the overview, the ring page and the page of the
   resale chain with the most settlements, each once with the app's caches cold (*first*), then
   ``--repeats`` times more, each time coming from the search page (*warm*, median).
   A time runs from ``performance.now()`` in the page when the navigation starts to
   ``performance.now()`` in the first animation frame in which the server has reported the run
   finished, the page's heading shows, nothing is stale or a loading skeleton, every visible
   table has its canvas and every plotly chart has drawn (maps: maplibre loaded). The end is
   polled once per frame after the run's ``script_finished`` message reached Playwright, which
   adds at most a few tens of milliseconds. Beside each time, the part until the server's run
   ended (as Playwright saw its ``script_finished`` message; the rest is the browser drawing).

5. **The tuning page's answer** (:mod:`benchmarks.tuning`): re-detection of the busiest
   city-year on the same store, first and warm.

Figures, not pass/fail: the target (every page under 2 s after first load) is printed beside
them for reading and lives in the issue.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

from benchmarks.detect import _child, _ensure_store, _store_is_usable
from benchmarks.load import DATA_ROOT
from dashboards.capture import LAUNCH_ARGS, RENDERED_JS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

    from yibao.synth._planter import Plan, Planter

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 2.0
CHROMIUM = "/usr/bin/chromium"
VIEWPORT: ViewportSize = {"width": 1600, "height": 1000}
USER, PASSWORD = "bench", "benchmark-pass-1"
START_SECONDS = 180.0
RENDER_SECONDS = 300.0
NEUTRAL = ("/search", "查询")
"""The page visited between two timed visits: light, and its heading differs from theirs."""

# The workbench's rendered test (dashboards/capture.py), returning the page's clock when it holds.
_READY_JS = f"(heading) => (({RENDERED_JS.strip()})(heading) ? performance.now() : false)"

_NAVIGATE_JS = """
(url) => {
  const start = performance.now();
  history.pushState({}, '', url);
  window.dispatchEvent(new PopStateEvent('popstate', {state: history.state}));
  return start;
}
"""


@dataclass(frozen=True)
class PageTiming:
    """One page: its first load (caches cold) and the warm loads after it, in seconds."""

    label: str
    path: str
    first_seconds: float
    warm_seconds: list[float]
    warm_median_seconds: float
    first_server_seconds: float
    warm_server_median_seconds: float
    """Of the above: until the server's ``script_finished`` message reached Playwright."""
    charts: int


@dataclass(frozen=True)
class RingInfo:
    """The ring whose page is measured: the largest of the store."""

    ring_id: str
    pattern: str
    suspicious: bool
    persons: int
    institutions: int
    practitioners: int
    settlements: int


@dataclass(frozen=True)
class AppRun:
    """Everything one benchmark run measured."""

    scale: int
    seed: int
    planted_ring_members: int
    store: str
    settlements_in_store: int
    ring: RingInfo
    largest_ring_persons_without_planting: int | None
    chain_code: str
    chain_settlements: int
    server_start_seconds: float
    sign_in_form_seconds: float
    sign_in_seconds: float
    pages: list[PageTiming]
    peak_rss_bytes: int
    idle_rss_bytes: int
    final_rss_bytes: int
    repeats: int
    store_built_seconds: float | None = None
    notes: list[str] = field(default_factory=list)


# --- the store -------------------------------------------------------------------------------


def _plant_collusion(pl: Planter, patients: int) -> None:
    """One doctor-pharmacy collusion scenario of ``patients`` patients, planted as synth's
    ``doctor_pharmacy_collusion`` plants its 15-50, every patient filling 1-3 prescriptions."""
    from yibao.synth import _fraud as fraud
    from yibao.synth._planter import LineSpec, at
    from yibao.synth.population import Category

    rng = pl.rng
    scen = pl.open("doctor_pharmacy_collusion")
    hospital = pl.pick_institution(fraud._HOSPITALS, private=True)
    doctor = pl.doctors(hospital, 1)[0]
    scen.practitioners.append(doctor)
    county = int(pl.inst.county[hospital])
    pharmacy = pl.pick_institution((Category.PHARMACY,), county=county)
    persons = fraud._persons_of_city(pl, patients, pl.county_city(county), (30, 85))
    favourites = rng.choice(["semaglutide", "adalimumab", "sacubitril", "albumin", "glargine",
                             "osimertinib", "tiotropium", "seretide"], size=2, replace=False)
    n_rx = 0
    for p in persons.tolist():
        for _ in range(int(rng.integers(1, 4))):
            day = int(rng.integers(3, 362))
            drugs = rng.choice(favourites, size=int(rng.integers(1, 3)), replace=False).tolist()
            dise = fraud.DIAGNOSIS_FOR_DRUG[drugs[0]]
            if rng.random() < 0.6:
                lines = [LineSpec(fraud._item("consult"), 1, dr=doctor)]
                pl.settle(scen, int(p), hospital, 11, at(day, rng.uniform(8.5, 11.5)), lines,
                          dise=dise, dr=doctor)
            lines = [LineSpec(fraud._item(d), fraud._boxes(pl, d, 2, 4), dr=doctor)
                     for d in drugs]
            pl.settle(scen, int(p), pharmacy, 41, at(day, rng.uniform(13.0, 19.0)), lines,
                      dise=dise if rng.random() < 0.7 else None, dr=doctor)
            n_rx += 1
    scen.description = (
        f"Benchmark scenario: a doctor of {pl.inst.name[hospital].as_py()} whose {n_rx} "
        f"prescriptions were filled at {pl.inst.name[pharmacy].as_py()} by {len(persons)} "
        "patients.")


@contextmanager
def _with_planted_ring(patients: int) -> Iterator[None]:
    """While inside, :func:`yibao.synth.synthesize` plants one more collusion scenario."""
    from yibao.synth import scenarios
    from yibao.synth._planter import Planter

    class _BigRingPlanter(Planter):
        def finish(self) -> Plan:
            _plant_collusion(self, patients)
            return super().finish()

    with mock.patch.object(scenarios, "Planter", _BigRingPlanter):
        yield


def _ensure_data_with_ring(scale: int, seed: int, patients: int) -> Path:
    folder = DATA_ROOT / f"load-{scale}-{seed}-ring{patients}"
    if not (folder / "truth.json").exists():
        from yibao.synth import synthesize

        print(f"synthesising {scale:,} settlements with a planted ring of {patients} into "
              f"{folder} …", file=sys.stderr)
        with _with_planted_ring(patients):
            synthesize(folder, scale=scale, seed=seed)
    return folder


def _is_detected(db: Path) -> bool:
    import duckdb

    if not _store_is_usable(db):
        return False
    with duckdb.connect(str(db), read_only=True) as con:
        try:
            return bool(con.execute("SELECT count(*) FROM rings").fetchall()[0][0])
        except duckdb.Error:
            return False


def _ensure_app_store(scale: int, seed: int, patients: int) -> tuple[Path, float | None]:
    """The cached loaded and detected store; the seconds it took if it was built now."""
    suffix = f"-ring{patients}" if patients else ""
    db = DATA_ROOT / f"app-{scale}-{seed}{suffix}.duckdb"
    if _is_detected(db):
        return db, None
    start = time.perf_counter()
    partial = db.with_name(db.name + ".partial")
    partial.unlink(missing_ok=True)
    if patients:
        folder = _ensure_data_with_ring(scale, seed, patients)
        print(f"loading {folder} …", file=sys.stderr)
        _child(["--only", "load", "--data", str(folder), "--db", str(partial)])
    else:
        loaded, _ = _ensure_store(scale, seed)
        shutil.copyfile(loaded, partial)
    print(f"detecting on {partial} …", file=sys.stderr)
    _child(["--only", "detect", "--db", str(partial)])
    shutil.rmtree(partial.with_name(partial.name + ".tmp"), ignore_errors=True)
    partial.replace(db)
    return db, time.perf_counter() - start


def _subjects(db: Path) -> tuple[int, RingInfo, str, int]:
    """Settlements in the store, the largest ring, and the resale chain with most settlements."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        n = int(con.execute("SELECT count(*) FROM settlements").fetchall()[0][0])
        ring = con.execute("""
            SELECT ring_id, pattern, suspicious, len(persons), len(institutions),
                   len(practitioners), n_settlements
            FROM rings ORDER BY len(persons) DESC, ring_id LIMIT 1
        """).fetchall()[0]
        chain = con.execute("""
            SELECT drug_trac_codg, n_settlements FROM chains WHERE hit_class = 'resale'
            ORDER BY n_settlements DESC, drug_trac_codg LIMIT 1
        """).fetchall()[0]
    info = RingInfo(ring_id=str(ring[0]), pattern=str(ring[1]), suspicious=bool(ring[2]),
                    persons=int(ring[3]), institutions=int(ring[4]),
                    practitioners=int(ring[5]), settlements=int(ring[6]))
    return n, info, str(chain[0]), int(chain[1])


def _largest_ring(db: Path) -> int | None:
    import duckdb

    if not _is_detected(db):
        return None
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT max(len(persons)) FROM rings").fetchall()[0][0])


# --- the app ---------------------------------------------------------------------------------


class _RssSampler(threading.Thread):
    """Samples the resident memory of a process and its children every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.last = 0
        self._stop_event = threading.Event()

    def rss(self) -> int:
        import psutil

        try:
            proc = psutil.Process(self.pid)
            procs = [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for p in procs:
            with suppress(psutil.NoSuchProcess):
                total += int(p.memory_info().rss)
        return total

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.last = self.rss()
            self.peak = max(self.peak, self.last)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


@dataclass
class _Server:
    url: str
    proc: subprocess.Popen[bytes]
    sampler: _RssSampler
    start_seconds: float


@contextmanager
def _workbench(db: Path) -> Iterator[_Server]:
    """The app served over ``db`` on a free loopback port (:mod:`tools.workbench_server`, as
    the browser tests serve it), its memory sampled from the start; stopped on exit."""
    from dashboards.auth import add_user
    from tools.workbench_server import WorkbenchStartError, served_workbench

    samplers: list[_RssSampler] = []

    def sample(proc: subprocess.Popen[bytes]) -> None:
        samplers.append(_RssSampler(proc.pid))
        samplers[0].start()

    with tempfile.TemporaryDirectory(prefix="yibao-bench-app-") as tmp:
        users, audit, log = Path(tmp) / "users.toml", Path(tmp) / "audit.jsonl", Path(tmp) / "log"
        add_user(users, USER, role="investigator", password=PASSWORD, display_name="基准测试")
        try:
            with served_workbench(db, users, audit, log, start_seconds=START_SECONDS,
                                  started=sample) as served:
                yield _Server(url=served.url, proc=served.proc, sampler=samplers[0],
                              start_seconds=served.start_seconds)
        except WorkbenchStartError as exc:
            raise SystemExit(str(exc)) from exc
        finally:
            for sampler in samplers:
                sampler.stop()


# --- the browser -----------------------------------------------------------------------------


class _Tab:
    """A signed-in tab that counts the script runs the server reports finished."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.runs = 0
        self.run_seconds = 0.0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: bytes | str) -> None:
        from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = ForwardMsg()
        with suppress(DecodeError):
            msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished in (
                    ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
                self.runs += 1

    def _ready_at(self, heading: str, after: int) -> float:
        """The page's clock (ms) when a run after the ``after``-th has rendered ``heading``;
        sets ``run_seconds``: from the call until the run's end reached Playwright."""
        start = time.perf_counter()
        deadline = time.monotonic() + RENDER_SECONDS
        while self.runs <= after:
            if time.monotonic() > deadline:
                raise SystemExit(f"no run of the page with {heading!r} finished in "
                                 f"{RENDER_SECONDS:.0f} s")
            self.page.wait_for_timeout(5)
        self.run_seconds = time.perf_counter() - start
        handle = self.page.wait_for_function(_READY_JS, arg=heading, polling="raf",
                                             timeout=RENDER_SECONDS * 1000)
        errors = self.page.locator('[data-testid="stException"]').all_inner_texts()
        if errors:
            raise SystemExit(f"the page with {heading!r} raised: {errors}")
        return float(handle.json_value())

    def sign_in(self, heading: str) -> float:
        """Submit the sign-in form; seconds until ``heading`` rendered."""
        self.page.locator('[data-testid="stForm"] input[type="text"]').first.fill(USER)
        self.page.locator('[data-testid="stForm"] input[type="password"]').fill(PASSWORD)
        before = self.runs
        start = float(self.page.evaluate("performance.now()"))
        self.page.locator('[data-testid="stFormSubmitButton"] button').click()
        return (self._ready_at(heading, before) - start) / 1000

    def visit(self, path: str, heading: str) -> tuple[float, float]:
        """Navigate inside the session; seconds from navigation start to rendered page, and
        to the end of the server's run (reported to Playwright)."""
        before = self.runs
        start = float(self.page.evaluate(_NAVIGATE_JS, path))
        return (self._ready_at(heading, before) - start) / 1000, self.run_seconds

    def charts(self) -> int:
        return int(self.page.locator('[data-testid="stPlotlyChart"]').count())


def _measure(browser: Browser, server: _Server, views: list[tuple[str, str, str]],
             repeats: int) -> tuple[float, float, list[PageTiming]]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    try:
        page = context.new_page()
        tab = _Tab(page)
        start = time.perf_counter()
        page.goto(server.url + NEUTRAL[0])
        page.wait_for_selector('[data-testid="stForm"] input[type="password"]',
                               timeout=RENDER_SECONDS * 1000)
        form_seconds = time.perf_counter() - start
        sign_in_seconds = tab.sign_in(NEUTRAL[1])
        first: dict[str, tuple[float, float]] = {}
        charts: dict[str, int] = {}
        for label, path, heading in views:
            print(f"  first load of {label} …", file=sys.stderr)
            first[label] = tab.visit(path, heading)
            charts[label] = tab.charts()
            tab.visit(*NEUTRAL)
        warm: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in views}
        for r in range(repeats):
            print(f"  warm loads, round {r + 1} of {repeats} …", file=sys.stderr)
            for label, path, heading in views:
                warm[label].append(tab.visit(path, heading))
                tab.visit(*NEUTRAL)
    finally:
        context.close()
    pages = [PageTiming(
        label=label, path=path, first_seconds=round(first[label][0], 3),
        warm_seconds=[round(total, 3) for total, _ in warm[label]],
        warm_median_seconds=round(statistics.median(t for t, _ in warm[label]), 3),
        first_server_seconds=round(first[label][1], 3),
        warm_server_median_seconds=round(statistics.median(s for _, s in warm[label]), 3),
        charts=charts[label]) for label, path, _ in views]
    return form_seconds, sign_in_seconds, pages


def run(scale: int, seed: int, repeats: int, patients: int) -> AppRun:
    """Build (or reuse) the store, serve it, and time the pages in chromium."""
    from playwright.sync_api import sync_playwright

    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    db, built = _ensure_app_store(scale, seed, patients)
    settlements, ring, chain, chain_n = _subjects(db)
    plain = _largest_ring(DATA_ROOT / f"app-{scale}-{seed}.duckdb") if patients else None
    views = [
        ("overview", "/", "总览"),
        (f"ring {ring.ring_id}", f"/rings?ring={ring.ring_id}", f"团伙 {ring.ring_id}"),
        (f"chain {chain}", f"/chains?code={chain}", chain),
    ]
    with _workbench(db) as server, sync_playwright() as pw:
        idle = server.sampler.rss()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            form_s, sign_in_s, pages = _measure(browser, server, views, repeats)
        finally:
            browser.close()
        final = server.sampler.rss()
        peak = max(server.sampler.peak, final)
        start_s = server.start_seconds
    notes = []
    if ring.persons < 500:
        notes.append(f"the largest ring has {ring.persons} persons, not 500: synthetic rings are "
                     "10-50 persons; run with --ring-members 500 to plant one")
    return AppRun(
        scale=scale, seed=seed, planted_ring_members=patients, store=str(db),
        settlements_in_store=settlements, ring=ring, largest_ring_persons_without_planting=plain,
        chain_code=chain, chain_settlements=chain_n, server_start_seconds=round(start_s, 3),
        sign_in_form_seconds=round(form_s, 3), sign_in_seconds=round(sign_in_s, 3),
        pages=pages, peak_rss_bytes=peak, idle_rss_bytes=idle, final_rss_bytes=final,
        repeats=repeats, store_built_seconds=round(built, 1) if built is not None else None,
        notes=notes,
    )


# --- printing --------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _print(r: AppRun) -> None:
    mib = 2**20
    print(f"workbench at {r.scale:,} settlements ({r.settlements_in_store:,} in the store "
          f"{r.store}), seed {r.seed}, chromium {VIEWPORT['width']}x{VIEWPORT['height']}")
    if r.store_built_seconds is not None:
        print(f"  (store synthesised/loaded/detected now: {r.store_built_seconds:.0f} s)")
    planted = (f"; planted by the benchmark: {r.planted_ring_members} patients"
               if r.planted_ring_members else "")
    print(f"  ring page: {r.ring.ring_id}, {r.ring.pattern}, "
          f"{'suspicious' if r.ring.suspicious else 'below the threshold'}: {r.ring.persons:,} "
          f"persons, {r.ring.institutions} institutions, {r.ring.practitioners} practitioners, "
          f"{r.ring.settlements:,} settlements (the largest ring of the store{planted})")
    if r.largest_ring_persons_without_planting is not None:
        print(f"  (largest ring of the plain data set: "
              f"{r.largest_ring_persons_without_planting} persons)")
    print(f"  chain page: {r.chain_code} (resale, {r.chain_settlements} settlements)")
    print(f"  server answered its health check {r.server_start_seconds:.1f} s after start; "
          f"sign-in form shown {r.sign_in_form_seconds:.2f} s after page.goto; signed in "
          f"(search page rendered) {r.sign_in_seconds:.2f} s after submitting")
    print(f"  {'page':<30} {'first s':>8} {'warm median s':>14}  {'target: warm under':>18}  "
          f"{'server run s (first / warm)':>27}  {'charts':>6}  warm runs")
    for p in r.pages:
        target = f"{TARGET_SECONDS:g} s: {_met(p.warm_median_seconds < TARGET_SECONDS)}"
        server = f"{p.first_server_seconds:.2f} / {p.warm_server_median_seconds:.2f}"
        print(f"  {p.label:<30} {p.first_seconds:8.2f} {p.warm_median_seconds:14.2f}  "
              f"{target:>18}  {server:>27}  {p.charts:6d}  {p.warm_seconds}")
    print(f"  streamlit process tree: {r.idle_rss_bytes / mib:,.0f} MiB after start, peak "
          f"{r.peak_rss_bytes / mib:,.0f} MiB, {r.final_rss_bytes / mib:,.0f} MiB at the end "
          f"(RSS sampled every 50 ms)")
    for note in r.notes:
        print(f"  note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ring-members", type=int, default=500,
                        help="plant one collusion ring of this many patients (0: none)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: `sudo apt-get install chromium fonts-noto-cjk`")
    result = run(args.scale, args.seed, args.repeats, args.ring_members)
    from benchmarks.tuning import measure, print_timing

    tuning = measure(_ensure_app_store(args.scale, args.seed, args.ring_members)[0],
                     args.repeats)  # the tuning page's answer on the same store
    if args.json:
        print(json.dumps({**asdict(result), "tuning": asdict(tuning)}, indent=2))
    else:
        _print(result)
        print_timing(tuning)


if __name__ == "__main__":
    main()
