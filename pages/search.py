"""Case search: filter by number, phone, handler, team, category, status, flag and received date."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from db.queries import SearchFilters, SearchRefused, search_cases
from domain import clock
from domain.config import local_zone
from services.views import search_table
from domain.vocab import ENUMS, label
from ui.common import as_of, date_bounds, db, lang, md, refusal, teams, tr, words
from ui.auth import actor, guard

guard("search")

L = lang()
st.title(tr("page.search"))

with st.form("search_form"):
    c1, c2, c3 = st.columns(3)
    case_no = c1.text_input(tr("search.case_no"), key="search_case_no")
    phone = c2.text_input(tr("search.phone"), key="search_phone", help=tr("search.phone_help"))
    handler = c3.text_input(tr("search.handler"), key="search_handler")
    c4, c5, c6, c7 = st.columns([2, 1, 1, 2])
    categories = c4.multiselect(tr("search.category"), list(ENUMS["category"]), placeholder=tr("common.choose"), key="search_categories",
                                format_func=lambda v: label("category", v, L))
    status = c5.selectbox(tr("search.status"), ["any", "open", "closed", "rejected"], key="search_status",
                          format_func=words("status"))
    flag = c6.selectbox(tr("search.flag"), ["any", "breached", "at_risk", "review", "none"], key="search_flag",
                        format_func=words("flag"))
    today = clock.today()
    period = c7.date_input(tr("search.received"), value=(today - timedelta(days=180), today), **date_bounds(), key="search_period")
    st.form_submit_button(tr("search.submit"), type="primary")

start = end = None
if isinstance(period, (tuple, list)) and len(period) == 2:
    start = datetime.combine(period[0], time(0), tzinfo=local_zone())
    end = datetime.combine(period[1], time(0), tzinfo=local_zone()) + timedelta(days=1)

filters = SearchFilters(case_no=case_no, phone=phone, handler=handler, teams=teams(), categories=categories,
                        status=status, flag=flag, received_from=start, received_to=end)
try:
    with db() as session:
        total, rows = search_cases(session, filters, as_of(), user=actor())
except SearchRefused as exc:
    st.warning(tr("search.refused", reason=md(refusal(exc))))
    st.stop()

if not rows:
    st.info(tr("search.none"))
else:
    st.caption(tr("search.count", n=total, shown=len(rows)) + " · " + tr("search.pick"))
    table = search_table(rows, L)
    event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="search_results", width="stretch")
    picked = event.selection.rows if event is not None and hasattr(event, "selection") else []
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    choice = c1.selectbox(tr("search.choose"), [r["case_no"] for r in rows], key="search_open_choice",
                          index=picked[0] if picked else 0)
    if picked or c2.button(tr("search.open"), key="search_open"):
        chosen = rows[picked[0]]["case_no"] if picked else choice
        st.session_state["detail_case_no"] = chosen
        st.switch_page("pages/case_detail.py", query_params={"case": chosen})
