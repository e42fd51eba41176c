"""What scoring a ring needs beside its own settlements: attributes of persons and
institutions, and statistics over all the data.

:class:`RingContext` holds them in the numbering of a :class:`~graph.claims.Claims`. The
statistics over everything (:class:`RingStatistics`: the bill norms per medical type, the
surname distribution, the traffic of all institutions per hour-of-week, the weeks of data)
and the per-institution counts (traffic, operators) are separate inputs, so a context can be
made for the claims of a few candidates' persons with the statistics of the whole data: the
same rings come out (Spark scores a province's candidates that way,
:mod:`backends.spark.rings`). :func:`ring_context_from_store` makes the whole store's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import numpy as np
import numpy.typing as npt

from graph.claims import Claims, has_table, pharmacy_sql
from graph.explanations import diagnosis_classes
from graph.projection import PersonProjection
from graph.suspicion import Traffic, traffic_bins, traffic_from_claims
from yibao.divisions import divisions_frame

__all__ = ["PEOPLE_SQL", "RingContext", "RingStatistics", "medfee_norms", "operator_counts",
           "ring_context", "ring_context_from_store", "ring_statistics", "surname_counts"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

PEOPLE_SQL = """
    SELECT i.idx, date_diff('day', p.brdy, $ref) / 365.25 AS age, p.insu_admdvs AS home,
           left(p.psn_name, 1) || '|' || p.insu_admdvs AS family,
           left(p.psn_name, 1) AS surname
    FROM _psn_idx i JOIN persons p ON p.psn_no = i.code ORDER BY i.idx"""
"""Persons in the numbering of ``_psn_idx``: age on ``$ref``, home division, family key
(surname and home) and surname."""

SURNAMES_SQL = "SELECT left(psn_name, 1) AS surname, count(*) AS n FROM persons GROUP BY 1"
"""Persons per surname (counts over any split of the persons add up)."""

_PLACES_SQL = f"""
    SELECT i.idx, n.lon, n.lat, n.admdvs, n.fixmedins_name AS name,
           coalesce({pharmacy_sql('n')}, FALSE) AS pharmacy
    FROM _ins_idx i JOIN institutions n ON n.fixmedins_code = i.code ORDER BY i.idx"""


@dataclass(frozen=True)
class RingContext:
    """What scoring needs beside the claims, indexed like :class:`~graph.claims.Claims`."""

    claims: Claims
    projection: PersonProjection
    person_age: F64
    person_home: npt.NDArray[np.object_]
    person_home_lonlat: F64
    person_family_key: I64
    institution_lonlat: F64
    institution_admdvs: npt.NDArray[np.object_]
    institution_name: npt.NDArray[np.object_]
    medfee_norm: dict[int, float]
    rows_by_person: I64
    person_offsets: I64
    institution_is_pharmacy: npt.NDArray[np.bool_] = field(
        default_factory=lambda: np.zeros(0, dtype=bool))
    surname_share: F64 = field(default_factory=lambda: np.zeros(0))
    flagged_persons: frozenset[int] = frozenset()
    traffic: Traffic | None = None
    operator_keys: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Sorted ``institution * (operators + 1) + operator + 1`` keys of settlements..."""
    operator_counts: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """... and how many settlements each key has (for the operator evidence)."""

    def operator_share(self, institution: int, operator: int) -> float:
        """Share of ``institution``'s settlements keyed by ``operator`` (经办人)."""
        width = len(self.claims.operator_codes) + 1
        lo = np.searchsorted(self.operator_keys, institution * width)
        hi = np.searchsorted(self.operator_keys, (institution + 1) * width)
        total = int(self.operator_counts[lo:hi].sum())
        at = np.searchsorted(self.operator_keys, institution * width + operator + 1)
        mine = (int(self.operator_counts[at]) if at < len(self.operator_keys)
                and self.operator_keys[at] == institution * width + operator + 1 else 0)
        return mine / total if total else 0.0
    diagnosis_classes: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)

    def surname_chance(self, n: int) -> float:
        """Chance that a member of a random group of ``n`` shares a surname with another."""
        p = self.surname_share
        return float((p * (1.0 - (1.0 - p) ** max(n - 1, 0))).sum())

    def rows_of(self, persons: Iterable[int]) -> I64:
        parts = [self.rows_by_person[self.person_offsets[p]:self.person_offsets[p + 1]]
                 for p in persons]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class RingStatistics:
    """Statistics over all the data that scoring uses: the day ages are taken on, the bill
    norm per medical type (median medfee, at least 1 yuan), the share of each surname among
    all persons (in surname order), all institutions' traffic per time-of-week bin, and the
    weeks the data spans."""

    reference_day: date
    medfee_norm: dict[int, float]
    surname_share: F64
    traffic_totals: F64
    weeks: float


def medfee_norms(med_type: npt.NDArray[np.int16], medfee: F64) -> dict[int, float]:
    """The bill norm of each medical type among the rows given: the median medfee, at least
    1 yuan (a median needs every row of the type)."""
    norm: dict[int, float] = {}
    for mt in np.unique(med_type).tolist():
        fees = medfee[med_type == mt]
        norm[int(mt)] = float(max(np.median(fees), 1.0))
    return norm


def surname_counts(surnames: Iterable[str | None], counts: Iterable[int]) -> F64:
    """Shares of the surnames (``None``: no name, counted as the text ``"None"`` as NumPy
    writes it) in surname order, from persons per surname."""
    merged: dict[str, int] = {}
    for name, n in zip(surnames, counts, strict=True):
        merged[str(name)] = merged.get(str(name), 0) + int(n)
    values = np.array([merged[k] for k in sorted(merged)], dtype=np.int64)
    return values / max(int(values.sum()), 1)


def ring_statistics(con: duckdb.DuckDBPyConnection, claims: Claims) -> RingStatistics:
    """The statistics of the whole store behind ``con`` (``claims``: all its claims)."""
    ref = con.execute("SELECT max(setl_time)::DATE FROM settlements").fetchall()[0]
    names = con.sql(SURNAMES_SQL).fetchnumpy()
    traffic = traffic_from_claims(claims)
    return RingStatistics(
        reference_day=ref[0] if ref and ref[0] else datetime.now().date(),
        medfee_norm=medfee_norms(claims.med_type, claims.medfee),
        surname_share=surname_counts(names["surname"].tolist(), names["n"].tolist()),
        traffic_totals=traffic.counts.sum(axis=0), weeks=traffic.weeks)


def operator_counts(claims: Claims) -> tuple[I64, I64]:
    """Settlements per institution and operator as sorted keys
    ``institution * (operators + 1) + operator + 1`` and counts."""
    if len(claims.operator) != len(claims):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys, counts = np.unique(
        claims.institution.astype(np.int64) * (len(claims.operator_codes) + 1)
        + claims.operator.astype(np.int64) + 1, return_counts=True)
    return keys.astype(np.int64), counts.astype(np.int64)


def ring_context(con: duckdb.DuckDBPyConnection, claims: Claims, projection: PersonProjection,
                 stats: RingStatistics, *, traffic_counts: F64, operators: tuple[I64, I64]
                 ) -> RingContext:
    """The context of ``claims`` with the statistics ``stats`` of all the data,
    ``traffic_counts`` (each institution of the claims' numbering: its settlements per
    time-of-week bin over all the data) and ``operators`` (:func:`operator_counts` over all
    the data, in the claims' numbering). ``con`` holds ``persons``, ``institutions``, the
    index tables ``_psn_idx`` and ``_ins_idx`` of the claims' codes and, after the rules,
    ``rule_hits``."""
    people = con.sql(PEOPLE_SQL, params={"ref": stats.reference_day}).fetchnumpy()
    places = con.sql(_PLACES_SQL).fetchnumpy()
    div = divisions_frame().set_index("code")
    home = np.asarray(people["home"], dtype=object)
    home_lonlat = np.column_stack([
        div["lon"].reindex(home).to_numpy(dtype=np.float64),
        div["lat"].reindex(home).to_numpy(dtype=np.float64),
    ])
    admdvs = np.asarray(places["admdvs"], dtype=object)
    lon = np.asarray(places["lon"], dtype=np.float64)
    lat = np.asarray(places["lat"], dtype=np.float64)
    # Institutions without coordinates sit at their division's centroid.
    lon = np.where(np.isnan(lon), div["lon"].reindex(admdvs).to_numpy(dtype=np.float64), lon)
    lat = np.where(np.isnan(lat), div["lat"].reindex(admdvs).to_numpy(dtype=np.float64), lat)
    _, family = np.unique(np.asarray(people["family"], dtype=object).astype(str),
                          return_inverse=True)
    order = np.argsort(claims.person, kind="stable").astype(np.int64)
    offsets = np.zeros(claims.n_persons + 1, dtype=np.int64)
    np.cumsum(np.bincount(claims.person, minlength=claims.n_persons), out=offsets[1:])
    flagged: frozenset[int] = frozenset()
    if has_table(con, "rule_hits"):
        rows = con.sql("""
            SELECT DISTINCT i.idx FROM rule_hits h, unnest(h.persons) AS u(psn_no)
            JOIN _psn_idx i ON i.code = u.psn_no WHERE h.severity IN ('high', 'medium')
        """).fetchall()
        flagged = frozenset(int(r[0]) for r in rows)
    return RingContext(
        claims=claims,
        projection=projection,
        person_age=np.asarray(people["age"], dtype=np.float64),
        person_home=home,
        person_home_lonlat=home_lonlat,
        person_family_key=family.astype(np.int64),
        institution_lonlat=np.column_stack([lon, lat]),
        institution_admdvs=admdvs,
        institution_name=np.asarray(places["name"], dtype=object),
        institution_is_pharmacy=np.asarray(places["pharmacy"], dtype=bool),
        medfee_norm=stats.medfee_norm,
        rows_by_person=order,
        person_offsets=offsets,
        surname_share=stats.surname_share,
        flagged_persons=flagged,
        traffic=Traffic(counts=traffic_counts, row_bin=traffic_bins(claims), weeks=stats.weeks,
                        totals=stats.traffic_totals),
        operator_keys=operators[0], operator_counts=operators[1],
        diagnosis_classes=diagnosis_classes(claims.diagnosis_codes),
    )


def ring_context_from_store(
    con: duckdb.DuckDBPyConnection, claims: Claims, projection: PersonProjection
) -> RingContext:
    """Person and institution attributes in the claims' numbering (needs ``claims_from_store``'s
    temp tables on the same connection), with the whole store's statistics."""
    return ring_context(con, claims, projection, ring_statistics(con, claims),
                        traffic_counts=traffic_from_claims(claims).counts,
                        operators=operator_counts(claims))
