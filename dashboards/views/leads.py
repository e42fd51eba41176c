"""线索台账 Leads ledger: every lead checked one by one to closure (逐条核查、闭环).

The list (filters in the URL, headline figures, a sortable table, Excel out and in, leads from
detection) and one lead (``?lead=ID``): its fields, its ring(s) on the map with the table
beside it, its persons (masked unless revealed), its history, and for investigators the
lifecycle buttons and an edit form. Every write names the version of the lead as it was shown
(kept in the session when the page drew it, read by the button's callback), so a change made
by someone else in between is refused with the ledger's conflict message, never overwritten.
A refusal is told in the user's language from the facts on the ledger's error (its state, the
allowed next states, who changed the lead and when), not from its English message.
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.data import leads as lead_data
from dashboards.data import rings as ring_data
from dashboards.data.common import data_period
from dashboards.figures.maps import lines_and_points, ring_trips_map
from dashboards.i18n import columns, t, text
from dashboards.lead_words import L, refusal_text
from yibao.divisions import PROVINCE_CODES, division_name, divisions_frame
from yibao.errors import (
    LeadNotFoundError,
    YibaoError,
)
from yibao.i18n import list_join
from yibao.leads import (
    DISPOSITIONS,
    RISKS,
    SOURCES,
    STATES,
    Lead,
    LeadDraft,
    LeadFilter,
    OrderBy,
    allowed_next,
)
from yibao.leads.excel import import_workbook
from yibao.leads.excel_export import workbook_name
from yibao.leads.figures import figure_label
from yibao.leads.from_detection import leads_from_store
from yibao.leads.wording import plural

MAX_PERSONS = 1000
ORDERS: tuple[OrderBy, ...] = ("risk", "due", "amount", "updated", "lead_id")
MAX_RINGS_ON_MAP = 20

lg = ui.lang()
ui.require_detection()
period = ui.period()
user = ui.current_user()
try:
    ledger = ui.ledger()
except YibaoError as exc:  # e.g. the Neo4j server holding the ledger cannot be reached
    st.title(text(L, "title", lg))
    st.error(text(L, "no_ledger", lg, reason=exc))
    if st.button(t("retry_server", lg), key="retry_ledger", icon=":material/refresh:"):
        ui.retry_backend()  # the next render tries the server again at once
        st.rerun()
    st.stop()
LI = 0 if lg == "zh" else 1


def _state(code: str) -> str:
    return STATES[code][LI]  # type: ignore[index]


def _risk(code: str) -> str:
    return RISKS[code][LI]  # type: ignore[index]


def _source(code: str) -> str:
    return SOURCES[code][LI]  # type: ignore[index]


def _keep() -> dict[str, str]:
    """The language and period of the URL, for links to other pages."""
    return {k: v for k in ("lang", "from", "to") if (v := ui.url_param(k))}


# -- writes (button callbacks: they run before the page draws again) -----------------------

def _shown() -> dict[str, Any]:
    """The lead as the page last showed it: ``lead_id``, ``version``, ``amount_recovered``."""
    return cast(dict[str, Any], st.session_state.get("lead_shown", {}))


def _suffix() -> str:
    shown = _shown()
    return f"{shown.get('lead_id')}_{shown.get('version')}_{lg}"


def _yuan_text(value: object) -> str:
    return f"{float(cast(float, value or 0.0)):.2f}"


def _on_error(exc: YibaoError) -> None:
    ui.flash("error", refusal_text(exc, lg))


def _transition(target: str) -> None:
    shown, suffix = _shown(), _suffix()
    amount = st.session_state.get(f"lead_recovered_{suffix}")
    recovered = None
    if amount is not None and target in ("confirmed", "handling", "closed") and \
            _yuan_text(amount) != _yuan_text(shown.get("amount_recovered")):
        recovered = _yuan_text(amount)
    try:
        lead = ledger.transition(
            shown["lead_id"], cast(Any, target), expected_version=shown["version"],
            by=ui.current_user().username, note=st.session_state.get(f"lead_note_{suffix}", ""),
            dispositions=tuple(st.session_state.get(f"lead_disp_{suffix}", [])),
            amount_recovered=recovered)
    except YibaoError as exc:
        _on_error(exc)
    else:
        ui.flash("success", text(L, "moved", lg, lead_id=lead.lead_id, state=_state(lead.state),
                               version=lead.version))


def _save() -> None:
    shown, suffix = _shown(), _suffix()
    state = st.session_state
    fields: dict[str, object] = {
        "owner": state.get(f"lead_owner_{suffix}", ""),
        "due": state.get(f"lead_due_{suffix}"),
        "amount_involved": _yuan_text(state.get(f"lead_involved_{suffix}")),
    }
    if f"lead_recovered_edit_{suffix}" in state:
        fields["amount_recovered"] = _yuan_text(state[f"lead_recovered_edit_{suffix}"])
    if f"lead_disp_edit_{suffix}" in state:
        fields["dispositions"] = tuple(state[f"lead_disp_edit_{suffix}"])
    try:
        lead = ledger.update(shown["lead_id"], fields, expected_version=shown["version"],
                             by=ui.current_user().username,
                             note=state.get(f"lead_edit_note_{suffix}", ""))
    except YibaoError as exc:
        _on_error(exc)
    else:
        if lead.version == shown["version"]:
            ui.flash("info", text(L, "unchanged", lg))
        else:
            ui.flash("success", text(L, "saved", lg, lead_id=lead.lead_id, version=lead.version))


def _generate() -> None:
    cur = ui.con()
    try:
        done = leads_from_store(cur, ledger, by=ui.current_user().username)
    except YibaoError as exc:
        _on_error(exc)
        return
    finally:
        cur.close()
    ui.flash("success", text(L, "generated", lg, n=done.total_created,
                           ring=done.created["ring"], chain=done.created["chain"],
                           rule=done.created["rule_hit"],
                           existing=sum(done.existing.values())))


def _import() -> None:
    upload = st.session_state.get("leads_upload")
    if upload is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(upload.name).name or "ledger.xlsx")
        path.write_bytes(upload.getvalue())
        try:
            report = import_workbook(ledger, path, by=ui.current_user().username)
        except YibaoError as exc:
            _on_error(exc)
            return
    st.session_state["leads_import_report"] = (
        report.summary(),
        [(r.row, r.lead_id or "", r.outcome, r.column or "", r.reason) for r in report.rows])


def _add_by_hand() -> None:
    state = st.session_state
    try:
        lead = ledger.add(LeadDraft(
            source=state[ui.lang_key("new_source")], title=state.get("new_title", ""),
            summary=state.get("new_summary", ""), violation=state.get("new_violation", ""),
            risk=state[ui.lang_key("new_risk")],
            region=state.get(ui.lang_key("new_region")) or None,
            owner=state.get("new_owner") or None,
            amount_involved=Decimal(_yuan_text(state.get("new_amount")))),
            by=ui.current_user().username)
    except YibaoError as exc:
        _on_error(exc)
    else:
        ui.flash("success", text(L, "added", lg, lead_id=lead.lead_id))
        ui.set_param("lead", lead.lead_id)


# -- the list -------------------------------------------------------------------------------

def _labels(codes: object) -> dict[str, tuple[str, str]]:
    return cast(dict[str, tuple[str, str]], codes)


def _filters() -> tuple[LeadFilter, OrderBy]:
    divs = divisions_frame()
    any_ = text(L, "any", lg)
    c1, c2, c3 = st.columns(3)
    with c1:
        states = ui.url_multiselect(text(L, "states", lg), _labels(STATES), "states",
                                    "leads_states", any_)
    with c2:
        risks = ui.url_multiselect(text(L, "risks", lg), _labels(RISKS), "risks",
                                   "leads_risks", any_)
    with c3:
        sources = ui.url_multiselect(text(L, "sources", lg), _labels(SOURCES), "sources",
                                     "leads_sources", any_)
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    with c1:
        province = ui.url_selectbox(text(L, "province", lg), sorted(PROVINCE_CODES),
                                    {c: division_name(c, lg) for c in PROVINCE_CODES},
                                    "province", "leads_province", any_)
    cities = divs[(divs["level"] == "city") & (divs["province"] == province)] if province \
        else divs.iloc[0:0]
    with c2:
        city = ui.url_selectbox(text(L, "city", lg), list(cities["code"]),
                                {c: division_name(c, lg) for c in cities["code"]}, "city",
                                "leads_city", any_)
    owners = sorted({lead.owner for lead in ledger.leads() if lead.owner})
    with c3:
        owner = ui.url_selectbox(text(L, "owner", lg), owners, {}, "owner", "leads_owner",
                                 any_)
    with c4:
        query = st.text_input(text(L, "search", lg), value=ui.url_param("q", "") or "",
                              key="leads_q")
        ui.set_param("q", query.strip() or None)
    c1, c2, c3 = st.columns([1, 1, 2])
    overdue = c1.toggle(text(L, "overdue_only", lg), value=ui.url_param("overdue") == "1",
                        key="leads_overdue")
    ui.set_param("overdue", "1" if overdue else None)
    escalate = c2.toggle(text(L, "escalate_only", lg), value=ui.url_param("escalate") == "1",
                         key="leads_escalate")
    ui.set_param("escalate", "1" if escalate else None)
    chosen = ui.url_param("order", "risk")
    names = [str(o) for o in ORDERS]
    order = cast(OrderBy, c3.selectbox(
        text(L, "order", lg), names, index=names.index(chosen) if chosen in names else 0,
        format_func=lambda o: text(L, f"o_{o}", lg), placeholder=text(L, "choose", lg),
        key=ui.lang_key("leads_order")))
    ui.set_param("order", None if order == "risk" else order)
    flt = LeadFilter(states=cast(Any, tuple(states)), risks=cast(Any, tuple(risks)),
                     sources=cast(Any, tuple(sources)), region=city or province or None,
                     owner=owner or None, text=query.strip() or None,
                     overdue=True if overdue else None,
                     needs_escalation=True if escalate else None)
    return flt, order


def _headline(leads: list[Lead], today: date) -> None:
    head = lead_data.ledger_headline(leads, today)
    cols = st.columns(9)
    cols[0].metric(text(L, "m_leads", lg), f"{head.leads:,}")
    for col, state in zip(cols[1:5], ("pending", "checking", "confirmed", "closed"),
                          strict=True):
        col.metric(figure_label("state_confirmed", lg) if state == "confirmed"
                   else _state(state).capitalize(), f"{head.by_state[state]:,}")
    cols[5].metric(text(L, "m_overdue", lg), f"{head.overdue:,}")
    cols[6].metric(text(L, "m_escalate", lg), f"{head.escalations:,}")
    cols[7].metric(text(L, "m_involved", lg), f"{lead_data.wan(head.amount_involved):,.2f}")
    cols[8].metric(text(L, "m_recovered", lg), f"{lead_data.wan(head.amount_recovered):,.2f}")


def _texts(leads: list[Lead]) -> dict[str, tuple[str, str]]:
    """Titles and summaries of detection's leads in the page's language (stored: Chinese)."""
    return ui.cached(lead_data.lead_texts, tuple(leads), lg) if lg != "zh" else {}


def _table(leads: list[Lead], today: date) -> None:
    frame = lead_data.leads_table(leads, today, lang=lg, texts=_texts(leads))
    shown = pd.DataFrame({
        text(L, "o_lead_id", lg): frame["lead_id"],
        text(L, "c_title", lg): frame["title"],
        text(L, "c_violation", lg): frame["violation"].map(
            lambda v: lead_data.violation_name(v, lg)),
        text(L, "c_risk", lg): frame["risk"].map(_risk),
        text(L, "c_state", lg): frame["state"].map(_state),
        text(L, "c_owner", lg): frame["owner"],
        text(L, "c_region", lg): frame["region_name"],
        text(L, "c_due", lg): frame["due"],
        text(L, "c_involved", lg): frame["amount_involved"],
        text(L, "c_involved_wan", lg): frame["amount_involved_wan"],
        text(L, "c_recovered", lg): frame["amount_recovered"],
        text(L, "c_recovered_wan", lg): frame["amount_recovered_wan"],
        text(L, "c_overdue", lg): frame["overdue"],
        text(L, "c_escalate", lg): frame["needs_escalation"],
        text(L, "c_source", lg): frame["source"].map(_source),
    })
    money = st.column_config.NumberColumn(format="localized")
    wan = st.column_config.NumberColumn(format="%.2f")
    st.caption(text(L, "pick", lg))
    event = st.dataframe(
        shown, hide_index=True, width="stretch", on_select="rerun",
        selection_mode="single-row", key="leads_table", height=min(600, 35 * (len(shown) + 1) + 3),
        column_config={text(L, "c_involved", lg): money, text(L, "c_recovered", lg): money,
                       text(L, "c_involved_wan", lg): wan, text(L, "c_recovered_wan", lg): wan,
                       text(L, "c_title", lg): st.column_config.TextColumn(width="medium")})
    rows = event.selection.rows if event is not None else []
    if rows:
        ui.set_param("lead", str(frame.iloc[rows[0]]["lead_id"]))
        st.rerun()


def _tools(shown: list[Lead]) -> None:
    """Export (exactly the leads the table shows, ``shown``), import and create."""
    span = "" if period == ui.cached(data_period) else f"_{period.start}_{period.end}"
    with st.expander(text(L, "tools", lg), expanded=False):
        c1, c2 = st.columns(2)
        c1.download_button(text(L, "download", lg),
                           data=lambda: lead_data.workbook_bytes(
                               ledger, shown, lang=lg, texts=_texts(shown)),
                           file_name=workbook_name(lg, ledger.today(), span),
                           mime="application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet",
                           key="leads_download", icon=":material/download:",
                           disabled=not shown)
        c1.caption(text(L, "download_note", lg, n=len(shown)))
        if user.role == "investigator":
            c1.button(text(L, "generate", lg), key="leads_generate", on_click=_generate,
                      help=text(L, "generate_help", lg), icon=":material/auto_awesome:")
            c1.caption(text(L, "generate_help", lg))
            c2.file_uploader(text(L, "upload", lg), type=["xlsx"], key="leads_upload")
            c2.button(text(L, "import", lg), key="leads_import", on_click=_import,
                      disabled=st.session_state.get("leads_upload") is None,
                      icon=":material/upload:")
        report = st.session_state.get("leads_import_report")
        if report:
            summary, rows = report
            st.success(text(L, "import_done", lg, **summary))
            outcome = {o: text(L, f"o_{o}_r", lg)
                       for o in ("updated", "created", "unchanged", "rejected")}
            st.dataframe(pd.DataFrame(rows, columns=[
                text(L, "r_row", lg), text(L, "o_lead_id", lg), text(L, "r_outcome", lg),
                text(L, "r_column", lg), text(L, "r_reason", lg)]).assign(**{
                    text(L, "r_outcome", lg): lambda f: f[text(L, "r_outcome", lg)].map(outcome)
                }), hide_index=True, width="stretch", key="leads_import_table")


def _new_lead_form() -> None:
    manual = ("report", "national", "inspection", "manual")
    divs = divisions_frame()
    regions = divs[divs["level"] != "province"]
    region_names = {c: division_name(c, lg) for c in regions["code"]}
    with st.expander(text(L, "new_lead", lg)), st.form("leads_new", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        c1.selectbox(text(L, "sources", lg), manual, format_func=_source,
                     placeholder=text(L, "choose", lg), key=ui.lang_key("new_source"))
        c2.selectbox(text(L, "risks", lg), list(RISKS), index=1, format_func=_risk,
                     placeholder=text(L, "choose", lg), key=ui.lang_key("new_risk"))
        c3.selectbox(text(L, "f_region", lg), ["", *regions["code"]],
                     format_func=lambda c: region_names.get(c, c) if c else "—",
                     placeholder=text(L, "choose", lg), key=ui.lang_key("new_region"))
        st.text_input(text(L, "f_title", lg), key="new_title")
        st.text_area(text(L, "f_summary", lg), key="new_summary", height=80)
        c1, c2, c3 = st.columns(3)
        c1.text_input(text(L, "f_violation", lg), key="new_violation")
        c2.text_input(text(L, "owner", lg), key="new_owner")
        c3.number_input(text(L, "f_amount", lg), min_value=0.0, step=100.0, format="%.2f",
                        key="new_amount")
        st.form_submit_button(text(L, "f_add", lg), on_click=_add_by_hand, type="primary")


def _list_page() -> None:
    st.title(text(L, "title", lg))
    ui.show_flash()
    flt, order = _filters()
    leads = ledger.leads(flt, order_by=order)
    full = ui.cached(data_period)
    if period == full:
        st.caption(text(L, "period_all", lg))
    else:
        spans = ui.cached(lead_data.activity_spans)
        leads = lead_data.leads_in_period(leads, spans, period)
        st.caption(text(L, "period_some", lg, period=str(period)))
    today = ledger.today()
    _headline(leads, today)
    if leads:
        _table(leads, today)
    elif not ledger.leads():
        st.info(text(L, "empty_ledger", lg))
    else:
        st.info(text(L, "nothing", lg))
    _tools(leads)
    if user.role == "investigator":
        _new_lead_form()


# -- one lead -------------------------------------------------------------------------------

def _fields(lead: Lead, today: date) -> None:
    cols = st.columns(6)
    cols[0].metric(text(L, "c_state", lg), _state(lead.state).capitalize())
    cols[1].metric(text(L, "c_risk", lg), _risk(lead.risk).capitalize(),
                   help=f"{lead.risk_score:.2f}" if lead.risk_score is not None else None)
    cols[2].metric(text(L, "c_owner", lg), lead.owner or text(L, "none", lg))
    flags = [text(L, "overdue_flag", lg)] if lead.overdue(today) else []
    if lead.needs_escalation(today):
        flags.append(text(L, "escalate_flag", lg))
    cols[3].metric(text(L, "c_due", lg), lead.due.isoformat() if lead.due else "—",
                   delta=list_join(flags, lg) or None, delta_color="inverse" if flags else "off",
                   delta_arrow="off")
    cols[4].metric(text(L, "c_involved", lg), f"{float(lead.amount_involved):,.2f}")
    cols[5].metric(text(L, "c_recovered", lg), f"{float(lead.amount_recovered):,.2f}")
    lines = [
        text(L, "source_line", lg, source=_source(lead.source), ref=lead.source_ref or "—"),
        text(L, "violation_line", lg, violation=lead_data.violation_name(lead.violation, lg)),
        text(L, "region_line", lg, region=lead_data.region_name(lead.region, lg) or "—"),
    ]
    if lead.dispositions:
        lines.append(text(L, "dispositions_line", lg, d="、".join(
            DISPOSITIONS[d][LI] for d in lead.dispositions)))
    counts = (len(lead.persons), len(lead.institutions), len(lead.practitioners),
              len(lead.rings))
    if lg == "en":
        p, i, d, r = (plural(n, word) for n, word in zip(
            counts, ("person", "institution", "practitioner", "ring"), strict=True))
        lines.append(text(L, "links_line", lg, p=p, i=i, d=d, r=r))
    else:
        lines.append(text(L, "links_line", lg, p=counts[0], i=counts[1], d=counts[2],
                          r=counts[3]))
    lines.append(text(L, "created_line", lg, by=lead.created_by,
                      at=lead.created_at.strftime("%Y-%m-%d %H:%M"), uby=lead.updated_by,
                      uat=lead.updated_at.strftime("%Y-%m-%d %H:%M"), version=lead.version))
    st.markdown("\n".join(f"- {line}" for line in lines))
    summary = _texts([lead]).get(lead.lead_id, (lead.title, lead.summary))[1]
    if summary:
        st.caption(summary)
    if lead.rings:
        links = st.columns(min(len(lead.rings), 6))
        for k, ring_id in enumerate(lead.rings[:12]):
            links[k % len(links)].page_link(
                "views/rings.py", label=text(L, "ring_link", lg, ring_id=ring_id),
                icon=":material/group:", query_params={"ring": ring_id, **_keep()})


def _where(lead: Lead) -> None:
    if lead.rings:
        parts = [ui.cached(ring_data.ring_settlements, r, period)
                 for r in lead.rings[:MAX_RINGS_ON_MAP]]
        settlements = pd.concat(parts, ignore_index=True).drop_duplicates("setl_id") \
            if parts else pd.DataFrame()
        if not settlements.empty:
            _ring_map(settlements)
            return
    if lead.institutions:
        insts = ui.cached(lead_data.lead_institutions, tuple(lead.institutions))
        insts = insts.dropna(subset=["lon", "lat"])
        if not insts.empty:
            points = insts.assign(label=insts["fixmedins_name"], size=12)
            points.attrs.update(name=t("institutions", lg), color="#d62728")
            st.caption(text(L, "map_insts", lg))
            left, right = st.columns([3, 2])
            left.plotly_chart(lines_and_points(points=[points], height=440), width="stretch",
                              key="lead_map")
            right.dataframe(columns(insts.drop(columns=["lon", "lat"]), lg), hide_index=True,
                            width="stretch", height=ui.table_height(len(insts)))
            return
    st.caption(text(L, "no_map", lg))


def _ring_map(settlements: pd.DataFrame) -> None:
    trips = ring_data.ring_trips(settlements)
    st.caption(text(L, "map_rings", lg, period=str(period)))
    left, right = st.columns([3, 2])
    left.plotly_chart(ring_trips_map(trips, homes_name=text(L, "homes", lg),
                                     institutions_name=t("institutions", lg),
                                     yuan=t("yuan", lg), height=440, lang=lg),
                      width="stretch", key="lead_map")
    right.dataframe(columns(trips.drop(columns=["home_lon", "home_lat", "lon", "lat",
                                                "insu_admdvs"]), lg),
                    hide_index=True, width="stretch", height=ui.table_height(len(trips)))


def _who(lead: Lead) -> None:
    if not lead.persons:
        st.caption(text(L, "no_persons", lg))
        return
    ui.unmask_toggle("lead", lead.lead_id)
    codes = tuple(lead.persons[:MAX_PERSONS])
    if len(lead.persons) > MAX_PERSONS:
        st.caption(text(L, "persons_more", lg, n=len(lead.persons), k=MAX_PERSONS))
    persons = ui.show_masked(ui.cached(lead_data.lead_persons, codes), "lead", lead.lead_id)
    persons["gend"] = persons["gend"].map(lambda g: text(L, f"sex_{g}", lg)
                                          if f"sex_{g}" in L else g)
    st.dataframe(columns(persons.drop(columns=["insu_admdvs"]), lg), hide_index=True,
                 width="stretch", height=ui.table_height(len(persons), 360), key="lead_persons")


def _actions(lead: Lead) -> None:
    if user.role != "investigator":
        st.caption(text(L, "read_only", lg))
        return
    nxt = allowed_next(lead.state)
    if not nxt:
        st.caption(text(L, "closed", lg))
        return
    suffix = f"{lead.lead_id}_{lead.version}_{lg}"  # fresh widgets per version and language
    left, right = st.columns(2)
    with left, st.form(f"lead_move_{suffix}", border=True):
        st.text_input(text(L, "note", lg), key=f"lead_note_{suffix}")
        if "handling" in nxt:
            st.multiselect(text(L, "dispositions", lg), list(DISPOSITIONS),
                           format_func=lambda d: DISPOSITIONS[d][LI],
                           placeholder=text(L, "choose", lg), key=f"lead_disp_{suffix}")
        if lead.state in ("checking", "confirmed", "handling"):
            st.number_input(text(L, "recovered_input", lg), min_value=0.0, step=100.0,
                            value=float(lead.amount_recovered), format="%.2f",
                            key=f"lead_recovered_{suffix}")
        buttons = st.columns(len(nxt))
        for col, target in zip(buttons, nxt, strict=True):
            col.form_submit_button(text(L, "go", lg, state=_state(target)),
                                   key=f"lead_go_{target}", on_click=_transition,
                                   args=(target,), type="primary")
    with right, st.form(f"lead_edit_{suffix}", border=True):
        st.markdown(f"**{text(L, 'edit', lg)}**")
        c1, c2 = st.columns(2)
        c1.text_input(text(L, "owner", lg), value=lead.owner or "", key=f"lead_owner_{suffix}")
        c2.date_input(text(L, "c_due", lg), value=lead.due, key=f"lead_due_{suffix}")
        c1.number_input(text(L, "c_involved", lg), min_value=0.0, step=100.0,
                        value=float(lead.amount_involved), format="%.2f",
                        key=f"lead_involved_{suffix}")
        if lead.state in ("confirmed", "handling"):
            c2.number_input(text(L, "c_recovered", lg), min_value=0.0, step=100.0,
                            value=float(lead.amount_recovered), format="%.2f",
                            key=f"lead_recovered_edit_{suffix}")
        if lead.state == "handling":
            st.multiselect(text(L, "dispositions", lg), list(DISPOSITIONS),
                           default=list(lead.dispositions),
                           format_func=lambda d: DISPOSITIONS[d][LI],
                           placeholder=text(L, "choose", lg), key=f"lead_disp_edit_{suffix}")
        st.text_input(text(L, "note", lg), key=f"lead_edit_note_{suffix}")
        st.form_submit_button(text(L, "save", lg), key="lead_save", on_click=_save)


def _history(lead: Lead) -> None:
    frame = lead_data.history_frame(ledger.history(lead.lead_id), lg)
    frame["action"] = frame["action"].map(lambda a: text(L, f"a_{a}", lg))
    shown = frame.rename(columns={
        "seq": text(L, "h_seq", lg), "version": text(L, "h_version", lg),
        "at": text(L, "h_at", lg), "by": text(L, "h_by", lg),
        "action": text(L, "h_action", lg), "from_state": text(L, "h_from", lg),
        "to_state": text(L, "h_to", lg), "changes": text(L, "h_changes", lg),
        "note": text(L, "h_note", lg)})
    st.dataframe(shown, hide_index=True, width="stretch", height=ui.table_height(len(shown), 500),
                 key="lead_history",
                 column_config={text(L, "h_changes", lg): st.column_config.TextColumn(
                     width="large")})


def _lead_page(lead_id: str) -> None:
    if st.button(text(L, "back", lg), key="back_to_leads"):
        ui.set_param("lead", None)
        st.rerun()
    try:
        lead = ledger.get(lead_id)
    except LeadNotFoundError:
        st.title(text(L, "title", lg))
        ui.show_flash()
        st.warning(text(L, "not_found", lg, lead_id=lead_id))
        return
    st.session_state["lead_shown"] = {"lead_id": lead.lead_id, "version": lead.version,
                                      "amount_recovered": float(lead.amount_recovered)}
    title = _texts([lead]).get(lead.lead_id, (lead.title, ""))[0]
    st.title(f"{text(L, 'lead_title', lg, lead_id=lead.lead_id)}：{title}"
             if lg == "zh" else f"{text(L, 'lead_title', lg, lead_id=lead.lead_id)}: {title}")
    ui.show_flash()
    today = ledger.today()
    st.header(text(L, "fields", lg))
    _fields(lead, today)
    st.header(text(L, "actions", lg))
    _actions(lead)
    st.header(text(L, "where", lg))
    _where(lead)
    st.header(text(L, "who", lg))
    _who(lead)
    st.header(text(L, "history", lg))
    _history(lead)


lead_param = ui.url_param("lead")
if lead_param:
    _lead_page(lead_param)
else:
    _list_page()
