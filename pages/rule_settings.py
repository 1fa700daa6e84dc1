"""Rules: every rule with its clause, thresholds and flag counts; a what-if before saving thresholds."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from db.obligations import counts_by_rule, load_cases, thresholds
from db.queries import case_ids_received_between
from db.settings import apply_thresholds
from domain import clock
from rules.thresholds import MAXIMA, Thresholds
from domain.config import local_zone
from services.views import rules_table, threshold_rows, whatif
from ui.auth import actor, allowed, guard
from ui.common import as_of, date_bounds, db, db_errors, lang, md, refusal, tr

guard("rules")

L = lang()
now = as_of()
st.title(tr("page.rules"))
st.caption(tr("rules.intro"))

with db() as session:
    current = thresholds(session)
    counts = counts_by_rule(session, now)
st.dataframe(rules_table(counts, current, L), hide_index=True, width="stretch")

st.markdown(f"#### {tr('rules.whatif')}")
with st.form("rules_whatif"):
    cols = st.columns(3)
    trial_values: dict[str, float] = {}
    for i, (name, caption, value, clause) in enumerate(threshold_rows(current, L)):
        help_text = f"{tr('col.clause')} {clause}" if clause else None
        trial_values[name] = cols[i % 3].number_input(caption, min_value=0.0, max_value=float(MAXIMA[name]),
                                                      value=float(value), step=1.0,
                                                      key=f"rules_th_{name}", help=help_text)
    today = clock.today()
    period = st.date_input(tr("rules.period"), value=(today - timedelta(days=30), today), **date_bounds(), key="rules_period")
    run = st.form_submit_button(tr("rules.run_whatif"))

try:
    trial = Thresholds.from_mapping(trial_values)
except ValueError as exc:
    st.error(tr("rules.bad_threshold", error=md(refusal(exc))))
    st.stop()

if run and isinstance(period, (tuple, list)) and len(period) == 2:
    start = datetime.combine(period[0], time(0), tzinfo=local_zone())
    end = datetime.combine(period[1], time(0), tzinfo=local_zone()) + timedelta(days=1)
    with db() as session:
        ids = case_ids_received_between(session, start, end)
        cases = load_cases(session, ids)
    st.caption(tr("rules.whatif_result", n=len(cases)))
    st.dataframe(whatif(cases, now, current, trial, L), hide_index=True, width="stretch")

if trial != current and allowed("save_thresholds"):
    confirm = st.checkbox(tr("rules.confirm"), key="rules_confirm")
    if st.button(tr("rules.save"), type="primary", key="rules_save"):
        if not confirm:
            st.warning(tr("rules.need_confirm"))
        elif not allowed("save_thresholds"):  # checked again at the moment of writing
            st.error(tr("auth.forbidden"))
        else:
            bar = st.progress(0.0)
            with db_errors():
                n = apply_thresholds(trial, progress=lambda done, total: bar.progress(done / total if total else 1.0),
                                     actor=actor())
            st.success(tr("rules.saved", n=n))
