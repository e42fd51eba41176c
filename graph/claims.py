"""The claims graph, columnar: settlements as events linking persons, institutions and doctors.

Nodes are numbered densely (``0 .. n-1`` per kind) so that projections and community engines
work on NumPy arrays and ``scipy.sparse`` matrices; the codes stay in the store. A prefecture
city-year (about 10M settlements) is 10M rows of a few integers here, about 300 MB.

Only *effective* settlements take part: a reversal (冲销, negative total) and the settlement it
cancels are left out, since together they are no visit at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from graph.money import ACCOUNT_SQL, POOL_SQL
from loaders.codes import code_tables

__all__ = [
    "INPATIENT_MED_TYPES",
    "Claims",
    "claim_rows_sql",
    "claims_from_codes",
    "claims_from_store",
    "create_index_tables",
    "effective_settlements_sql",
    "has_table",
    "pharmacy_sql",
]

log = logging.getLogger(__name__)

INPATIENT_MED_TYPES: tuple[str, ...] = code_tables()["med_type"].with_attr("setting", "inpatient")
"""医疗类别 codes of inpatient stays (住院), from the med_type code table (``setting =
"inpatient"``); their event time is the admission date."""

_EPOCH = "TIMESTAMP '2000-01-01 00:00:00'"

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


def effective_settlements_sql(where: str = "TRUE") -> str:
    """SQL selecting settlements that are neither a reversal nor reversed (``where`` filters)."""
    return f"""
        SELECT s.* FROM settlements s
        WHERE s.init_setl_id IS NULL AND s.medfee_sumamt >= 0
          AND NOT EXISTS (SELECT 1 FROM settlements r WHERE r.init_setl_id = s.setl_id)
          AND ({where})
    """


def pharmacy_sql(alias: str = "i") -> str:
    """SQL: whether institution ``alias`` is a retail pharmacy (定点零售药店: ``fixmedins_type``
    2, or a national pharmacy code starting with P)."""
    return f"({alias}.fixmedins_type = '2' OR {alias}.fixmedins_code LIKE 'P%')"


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table ``name`` (e.g. ``rule_hits`` before rules have run)."""
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = $n",
                        {"n": name}).fetchall()[0]
    return bool(found[0])


@dataclass(frozen=True)
class Claims:
    """Effective settlements as arrays, one row per settlement, in ``setl_id`` order.

    ``person``, ``institution``, ``doctor`` index ``psn_no``, ``fixmedins_code`` and
    ``dr_codg`` (``-1``: no doctor), ``diagnosis`` indexes ``dise_codg`` (``-1``: none).
    ``t`` is seconds since 2000-01-01 (the settlement time, or the admission date for an
    inpatient stay), ``day`` the calendar day of ``t``. ``fund`` is the insurance money of
    the settlement (涉及医保基金 = 统筹基金 ``pool`` + 个人账户 ``account``, yuan, the one
    definition of :mod:`graph.money`), ``medfee`` the total (yuan). ``flagged``: the settlement
    is named by a high-severity rule hit (table ``rule_hits``, when rules have run).
    """

    person: I32
    institution: I32
    doctor: I32
    t: I64
    day: I32
    inpatient: B
    med_type: npt.NDArray[np.int16]
    diagnosis: I32
    fund: F64
    pool: F64
    account: F64
    medfee: F64
    flagged: B
    person_codes: npt.NDArray[np.object_]
    institution_codes: npt.NDArray[np.object_]
    doctor_codes: npt.NDArray[np.object_]
    diagnosis_codes: npt.NDArray[np.object_]
    operator: I32 = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    """``opter_id`` (经办人) index, ``-1``: none or not exported."""
    operator_codes: npt.NDArray[np.object_] = field(
        default_factory=lambda: np.zeros(0, dtype=object))

    def __len__(self) -> int:
        return len(self.person)

    @property
    def n_persons(self) -> int:
        return len(self.person_codes)

    @property
    def n_institutions(self) -> int:
        return len(self.institution_codes)


def _codes(con: duckdb.DuckDBPyConnection, sql: str) -> npt.NDArray[np.object_]:
    values = con.sql(sql).fetchnumpy()["code"]
    return np.asarray(values, dtype=object)


def create_index_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The dense numbering of persons, institutions, doctors, operators and diagnoses as temp
    tables ``_psn_idx`` .. ``_dx_idx`` (code, idx) on ``con``: over the whole store, so indices
    mean the same thing in every :class:`Claims` read on it."""
    con.execute("CREATE OR REPLACE TEMP TABLE _psn_idx AS SELECT psn_no AS code, "
                "(row_number() OVER (ORDER BY psn_no) - 1)::INTEGER AS idx FROM persons")
    con.execute("CREATE OR REPLACE TEMP TABLE _ins_idx AS SELECT fixmedins_code AS code, "
                "(row_number() OVER (ORDER BY fixmedins_code) - 1)::INTEGER AS idx "
                "FROM institutions")
    con.execute("CREATE OR REPLACE TEMP TABLE _dr_idx AS SELECT code, "
                "(row_number() OVER (ORDER BY code) - 1)::INTEGER AS idx FROM "
                "(SELECT DISTINCT dr_codg AS code FROM settlements WHERE dr_codg IS NOT NULL)")
    has_operator = _has_operator(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _op_idx AS SELECT code, "
                "(row_number() OVER (ORDER BY code) - 1)::INTEGER AS idx FROM "
                + ("(SELECT DISTINCT opter_id AS code FROM settlements WHERE opter_id IS NOT NULL)"
                   if has_operator else "(SELECT NULL::VARCHAR AS code WHERE FALSE)"))
    con.execute("CREATE OR REPLACE TEMP TABLE _dx_idx AS SELECT code, "
                "(row_number() OVER (ORDER BY code) - 1)::INTEGER AS idx FROM "
                "(SELECT DISTINCT dise_codg AS code FROM settlements WHERE dise_codg IS NOT NULL)")


def _has_operator(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'settlements' "
        "AND column_name = 'opter_id'").fetchall()[0][0])


def claim_rows_sql(con: duckdb.DuckDBPyConnection, where: str = "TRUE") -> str:
    """SQL selecting the effective settlements (``where`` on alias ``s``) as claims rows with
    their codes: ``setl_id``, ``psn_no``, ``fixmedins_code``, ``dr_codg``, ``opter_id`` (NULL
    when not exported), ``dise_codg``, ``t`` (seconds since 2000-01-01 of the settlement, or of
    the admission for a stay), ``inpatient``, ``med_type``, ``pool``, ``account``, ``medfee``
    (yuan). :func:`claims_from_store` numbers them; a partitioned run reads them per part."""
    inpatient = ", ".join(f"'{m}'" for m in INPATIENT_MED_TYPES)
    operator_column = "s.opter_id" if _has_operator(con) else "NULL::VARCHAR"
    event = (f"CASE WHEN s.med_type IN ({inpatient}) AND s.begndate IS NOT NULL "
             f"THEN s.begndate::TIMESTAMP ELSE s.setl_time END")
    return f"""
        SELECT s.setl_id, s.psn_no, s.fixmedins_code, s.dr_codg,
               {operator_column} AS opter_id, s.dise_codg,
               date_diff('second', {_EPOCH}, {event}) AS t,
               s.med_type IN ({inpatient}) AS inpatient,
               s.med_type::SMALLINT AS med_type,
               {POOL_SQL} AS pool, {ACCOUNT_SQL} AS account,
               s.medfee_sumamt::DOUBLE AS medfee
        FROM ({effective_settlements_sql(where)}) s"""


def claims_from_store(con: duckdb.DuckDBPyConnection, where: str = "TRUE",
                      params: dict[str, object] | None = None) -> Claims:
    """Read the effective settlements of the store (those ``where`` selects, SQL on alias
    ``s`` with named ``params``) into :class:`Claims`.

    The dense numbering is done in SQL (a join on sorted code lists), so only integers cross
    into Python. Persons and institutions are numbered over the whole store (persons with no
    settlement keep their number), so indices mean the same thing across projections.
    """
    create_index_tables(con)
    has_hits = has_table(con, "rule_hits")
    con.execute("CREATE OR REPLACE TEMP TABLE _high_setl AS " + (
        "SELECT DISTINCT unnest(setl_ids) AS setl_id FROM rule_hits WHERE severity = 'high'"
        if has_hits else "SELECT NULL::VARCHAR AS setl_id WHERE FALSE"))
    cols = con.sql(f"""
        SELECT p.idx AS person, i.idx AS institution,
               coalesce(d.idx, -1)::INTEGER AS doctor, coalesce(o.idx, -1)::INTEGER AS operator,
               s.t, s.inpatient, s.med_type, coalesce(x.idx, -1)::INTEGER AS diagnosis,
               s.pool, s.account, s.medfee,
               h.setl_id IS NOT NULL AS flagged
        FROM ({claim_rows_sql(con, where)}) s
        JOIN _psn_idx p ON p.code = s.psn_no
        JOIN _ins_idx i ON i.code = s.fixmedins_code
        LEFT JOIN _dr_idx d ON d.code = s.dr_codg
        LEFT JOIN _op_idx o ON o.code = s.opter_id
        LEFT JOIN _dx_idx x ON x.code = s.dise_codg
        LEFT JOIN _high_setl h ON h.setl_id = s.setl_id
        ORDER BY s.setl_id
    """, params=params or None).fetchnumpy()
    t = np.asarray(cols["t"], dtype=np.int64)
    pool = np.asarray(cols["pool"], dtype=np.float64)
    account = np.asarray(cols["account"], dtype=np.float64)
    claims = Claims(
        person=np.asarray(cols["person"], dtype=np.int32),
        institution=np.asarray(cols["institution"], dtype=np.int32),
        doctor=np.asarray(cols["doctor"], dtype=np.int32),
        operator=np.asarray(cols["operator"], dtype=np.int32),
        t=t,
        day=(t // 86_400).astype(np.int32),
        inpatient=np.asarray(cols["inpatient"], dtype=bool),
        med_type=np.asarray(cols["med_type"], dtype=np.int16),
        diagnosis=np.asarray(cols["diagnosis"], dtype=np.int32),
        fund=pool + account,
        pool=pool,
        account=account,
        medfee=np.asarray(cols["medfee"], dtype=np.float64),
        flagged=np.asarray(cols["flagged"], dtype=bool),
        person_codes=_codes(con, "SELECT code FROM _psn_idx ORDER BY idx"),
        institution_codes=_codes(con, "SELECT code FROM _ins_idx ORDER BY idx"),
        doctor_codes=_codes(con, "SELECT code FROM _dr_idx ORDER BY idx"),
        operator_codes=_codes(con, "SELECT code FROM _op_idx ORDER BY idx"),
        diagnosis_codes=_codes(con, "SELECT code FROM _dx_idx ORDER BY idx"),
    )
    log.info("claims: %d effective settlements, %d persons, %d institutions",
             len(claims), claims.n_persons, claims.n_institutions)
    return claims


def _index_of(values: pa.ChunkedArray, codes: npt.NDArray[np.object_]) -> I32:
    """Indices of ``values`` in the sorted ``codes`` (``-1``: missing or not listed), looked up
    in Arrow (a hash of the codes): the rows' codes never become Python strings."""
    at = pc.index_in(values.cast(pa.string()),
                     value_set=pa.array([str(c) for c in codes.tolist()], pa.string()))
    return np.asarray(at.fill_null(-1).to_numpy(), dtype=np.int32)


def claims_from_codes(rows: pa.Table, *, flagged: npt.ArrayLike,
                      person_codes: npt.ArrayLike, institution_codes: npt.ArrayLike,
                      doctor_codes: npt.ArrayLike, operator_codes: npt.ArrayLike,
                      diagnosis_codes: npt.ArrayLike) -> Claims:
    """:class:`Claims` of claims rows with codes (an Arrow table of the columns of
    :func:`claim_rows_sql`, in ``setl_id`` order), numbered by the sorted code lists given:
    those of a part of the data (a partitioned run) number it in the same order as the
    whole store does."""
    def sorted_codes(codes: npt.ArrayLike) -> npt.NDArray[np.object_]:
        return np.asarray(sorted(str(c) for c in np.asarray(codes, dtype=object).tolist()),
                          dtype=object)

    def numbers(name: str, dtype: type) -> npt.NDArray[Any]:
        return np.asarray(rows.column(name).to_numpy(), dtype=dtype)

    persons, places = sorted_codes(person_codes), sorted_codes(institution_codes)
    doctors, operators = sorted_codes(doctor_codes), sorted_codes(operator_codes)
    diagnoses = sorted_codes(diagnosis_codes)
    t = numbers("t", np.int64)
    pool = numbers("pool", np.float64)
    account = numbers("account", np.float64)
    return Claims(
        person=_index_of(rows.column("psn_no"), persons),
        institution=_index_of(rows.column("fixmedins_code"), places),
        doctor=_index_of(rows.column("dr_codg"), doctors),
        operator=_index_of(rows.column("opter_id"), operators),
        t=t,
        day=(t // 86_400).astype(np.int32),
        inpatient=numbers("inpatient", bool),
        med_type=numbers("med_type", np.int16),
        diagnosis=_index_of(rows.column("dise_codg"), diagnoses),
        fund=pool + account,
        pool=pool,
        account=account,
        medfee=numbers("medfee", np.float64),
        flagged=np.asarray(flagged, dtype=bool),
        person_codes=persons,
        institution_codes=places,
        doctor_codes=doctors,
        operator_codes=operators,
        diagnosis_codes=diagnoses,
    )
