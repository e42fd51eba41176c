"""数据质量 Data quality: each load's rows in, loaded, quarantined and noted; why rows were
quarantined and which descriptive values were kept with a note, by table, column and reason; and
the rows themselves, personal values always masked."""

from __future__ import annotations

import streamlit as st

from dashboards import ui
from dashboards.data import quality
from dashboards.i18n import text

L = {
    "title": ("数据质量：导入、隔离与注记", "Data quality: loads, quarantine and notes"),
    "intro": (
        "会使结果出错的问题（主键、引用、金额、结算日期、追溯码、重复行）整行隔离；描述性字段"
        "（等级、类别、诊断、姓名、编码形态等）未知或形态异常时整行入库、按原值保存，并记一条注记。"
        "导入前可用 `yibao profile 文件夹` 体检；"
        "本省标签可写入代码映射文件（`yibao load --codes`）。",
        "A fault that would corrupt results (keys, references, amounts, settlement dates, trace "
        "codes, duplicates) quarantines the row; an unknown or oddly shaped descriptive field "
        "(level, type, diagnosis, name, code shape) keeps the row, stored as it came, with a "
        "note. Run `yibao profile FOLDER` before loading; a province's own labels go in a code "
        "mapping file (`yibao load --codes`).",
    ),
    "loads": ("导入记录", "Loads"),
    "load_id": ("导入批次", "Load"),
    "started_at": ("开始时间", "Started"),
    "finished_at": ("完成时间", "Finished"),
    "source": ("来源", "Source"),
    "rows_in": ("读入行数", "Rows in"),
    "inserted": ("新增", "Inserted"),
    "unchanged": ("已有", "Unchanged"),
    "quarantined": ("隔离", "Quarantined"),
    "noted": ("入库但有注记", "Kept with a note"),
    "no_loads": ("存储中还没有导入记录。", "The store has no load yet."),
    "tab_quarantine": ("隔离的行", "Quarantined rows"),
    "tab_notes": ("注记（已入库）", "Notes (rows kept)"),
    "by_reason": ("按表、列和原因统计", "By table, column and reason"),
    "table_name": ("表", "Table"),
    "column_name": ("列", "Column"),
    "reason_code": ("原因代码", "Reason code"),
    "n": ("行数", "Rows"),
    "rows": ("明细（最近 {n} 行，个人信息已脱敏）", "Rows (latest {n}, personal data masked)"),
    "file": ("文件", "File"),
    "row_no": ("行号", "Row"),
    "raw_value": ("原值", "Value as written"),
    "reason": ("原因与修正方法", "Reason and how to fix it"),
    "filter_reason": ("只看此原因", "Only this reason"),
    "all": ("全部", "All"),
    "none": ("没有记录。", "Nothing here."),
}

lg = ui.lang()
st.title(text(L, "title", lg))
st.caption(text(L, "intro", lg))

loads = ui.cached(quality.load_history)
st.subheader(text(L, "loads", lg))
if loads.empty:
    st.info(text(L, "no_loads", lg))
else:
    m = st.columns(4)
    for col, key in zip(m, ("rows_in", "inserted", "quarantined", "noted"), strict=True):
        col.metric(text(L, key, lg), f"{int(loads[key].sum()):,}")
    shown = loads.rename(columns={c: text(L, c, lg) for c in loads.columns})
    st.dataframe(shown, hide_index=True, width="stretch", height=ui.table_height(len(shown)))

for tab, source in zip(st.tabs([text(L, "tab_quarantine", lg), text(L, "tab_notes", lg)]),
                       ("quarantine", "data_notes"), strict=True):
    with tab:
        counts = ui.cached(quality.issues_by_reason, source)
        if counts.empty:
            st.info(text(L, "none", lg))
            continue
        st.markdown(f"**{text(L, 'by_reason', lg)}**")
        st.dataframe(counts.rename(columns={c: text(L, c, lg) for c in counts.columns}),
                     hide_index=True, width="stretch", height=ui.table_height(len(counts)))
        reasons = [text(L, "all", lg), *sorted(counts["reason_code"].unique())]
        picked = st.selectbox(text(L, "filter_reason", lg), reasons, key=f"reason-{source}")
        rows = ui.cached(quality.issue_rows, source,
                         reason=None if picked == reasons[0] else picked)
        st.markdown(f"**{text(L, 'rows', lg, n=len(rows))}**")
        rows["reason"] = rows["reason_zh" if lg == "zh" else "reason_en"]
        rows["raw_value"] = rows["raw_value"].fillna("—")  # an empty cell, not "None"
        rows = rows[["load_id", "table_name", "file", "row_no", "column_name", "raw_value",
                     "reason"]]
        st.dataframe(rows.rename(columns={c: text(L, c, lg) for c in rows.columns}),
                     hide_index=True, width="stretch", height=ui.table_height(len(rows)))
