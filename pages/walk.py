"""End-to-end walk (全流程穿越, 10.2.2): one complaint taken through the handling flow of Appendix A, each step
judged, shortfalls noted and, if wished, attached to a problem in the register."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from db.queries import case_record
from db.walks import WalkRefused, problem_choices, record_walk, sample_case, step_summary, walks
from domain.deid import scrub_text
from domain.i18n import t
from domain.timeutil import fmt_local
from domain.walk import CLAUSES, STEP_KEYS, VERDICTS, findings
from services.views import flow_stages
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, server_now, db, flash, lang, md, refusal, tr

guard("walk")
L = lang()
now = as_of()
live = server_now()  # writes and access decisions: the server's clock, never the replay instant
st.title(tr("page.walk"))
st.caption(tr("walk.intro"))

c1, c2 = st.columns([3, 2])
if c2.button(tr("walk.sample"), key="walk_sample"):
    with db() as session:
        picked = sample_case(session, now - timedelta(days=30), now)
    if picked:
        st.session_state["walk_case_no"] = picked
        flash(tr("walk.sampled", case_no=picked))
        st.rerun()
    st.warning(tr("walk.no_sample"))
case_no = c1.text_input(tr("walk.case"), key="walk_case_no").strip()

if case_no:
    with db() as session:
        record = case_record(session, case_no)
        problems = problem_choices(session) if allowed("edit_improvement") else []
    if record is None:
        st.warning(tr("walk.not_found", case_no=md(case_no)))
    else:
        names = [record["customer_name"]] if record["customer_name"] else []
        st.markdown(f"#### {tr('walk.case_text')}")
        st.text(scrub_text(record["description"] or "—", names))
        st.markdown(f"#### {tr('walk.flow')}")
        for step in flow_stages(record, now, L):
            st.markdown(("✅ " if step["done"] else "⬜ ") + md(step["step"]) + (f" · {step['when']}" if step["when"] else ""))
        if allowed("walk"):
            with st.form(f"walk_form_{case_no}"):
                st.markdown(f"#### {tr('walk.form')}")
                verdicts, notes = {}, {}
                for k in STEP_KEYS:
                    a, b = st.columns([2, 3])
                    verdicts[k] = a.radio(f"{t('walk.step.' + k, L)}（{CLAUSES[k]}）", VERDICTS, horizontal=True,
                                          format_func=lambda v: t(f"walk.verdict.{v}", L), key=f"walk_v_{case_no}_{k}")
                    notes[k] = b.text_input(tr("walk.note"), max_chars=2000, key=f"walk_n_{case_no}_{k}")
                summary = st.text_area(tr("walk.summary"), max_chars=2000, key=f"walk_summary_{case_no}")
                problem = None
                if problems:
                    options = [None, *[p for p, _t in problems]]
                    titles = dict(problems)
                    problem = st.selectbox(tr("walk.problem"), options, key=f"walk_problem_{case_no}",
                                           format_func=lambda p: t("walk.no_problem", L) if p is None else f"#{p} {titles[p]}")
                if st.form_submit_button(tr("walk.save"), type="primary"):
                    try:
                        with db() as session:
                            record_walk(session, case_no, verdicts, notes, summary, actor(), role(), live, problem)
                    except WalkRefused as exc:
                        st.error(tr("walk.refused", error=md(refusal(exc))))
                    else:
                        flash(tr("walk.saved"))
                        st.rerun()

st.divider()
with db() as session:
    history = walks(session)
    by_step = step_summary(session)
st.markdown(f"#### {tr('walk.by_step')}")
st.dataframe(pd.DataFrame([{tr("walk.col.step"): t(f"walk.step.{k}", L), tr("walk.col.clauses"): CLAUSES[k],
                            tr("walk.col.good"): by_step[k]["good"], tr("walk.col.poor"): by_step[k]["poor"],
                            tr("walk.col.na"): by_step[k]["na"]} for k in STEP_KEYS]), hide_index=True, width="stretch")
st.markdown(f"#### {tr('walk.history')}")
if not history:
    st.caption(tr("walk.none"))
else:
    st.dataframe(pd.DataFrame([{
        tr("walk.col.case"): w["case_no"], tr("search.handler"): w["handler"], tr("walk.col.walker"): w["walker"],
        tr("walk.col.when"): fmt_local(w["walked_at"]),
        tr("walk.col.poor_steps"): "、".join(t(f"walk.step.{k}", L) for k in findings({s: v for s, (v, _n) in w["steps"].items()})),
        tr("walk.summary"): w["summary"], tr("walk.col.problem"): f"#{w['problem_id']}" if w["problem_id"] else "",
    } for w in history]), hide_index=True, width="stretch")
