"""质检申诉 — open disputes of assessments, oldest first; the inspector who assessed (or an admin) accepts
(the items are rescored) or rejects with a reason; outcomes by inspector."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.disputes import DisputeRefused, decide, dispute_queue, outcomes
from domain.timeutil import fmt_local
from db.users import display_names
from services.views import person
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, db, flash, lang, md, refusal, tr

guard("disputes")
L = lang()
now = as_of()
st.title(tr("page.disputes"))
with db() as session:
    people = display_names(session)  # account -> the name colleagues know
    queue = dispute_queue(session, now)
    done = outcomes(session)
if not queue:
    st.success(tr("disp.none"))
for d in queue:
    with st.container(border=True):
        head = tr("disp.head", who=md(person(d["opened_by"], people, L)), when=fmt_local(d["opened_at"]), age=f"{d['age_h']:.0f}",
                  inspector=md(person(d["inspector"], people, L)))
        st.markdown(f"**{md(d['case_no'])}** · {head}")
        for key, reason in d["items"].items():
            st.text(f"{d['titles'][key]}：{reason}")  # the item's clause and title, never its internal key
        mine = allowed("decide_dispute") and (actor() == d["inspector"] or role() == "admin")
        if not mine:
            continue
        with st.form(f"disp_{d['id']}"):
            note = st.text_input(tr("disp.note"), key=f"disp_note_{d['id']}")
            c1, c2 = st.columns(2)
            yes = c1.form_submit_button(tr("disp.accept"), type="primary")
            no = c2.form_submit_button(tr("disp.reject"))
        if yes or no:
            try:
                with db() as session:
                    decide(session, d["id"], bool(yes), note, actor(), role())
            except DisputeRefused as exc:
                st.error(tr("edit.refused", error=md(refusal(exc))))
            else:
                flash(tr("disp.accepted" if yes else "disp.rejected"))
                st.rerun()
st.markdown(f"#### {tr('disp.outcomes')}")
if done:
    st.dataframe(pd.DataFrame([{tr("disp.inspector"): person(o["inspector"], people, L), tr("col.state"): tr(f"myqa.dispute.{o['status']}"),
                                tr("qa.col.cases"): o["n"]} for o in done]), hide_index=True, width="stretch")
else:
    st.caption("—")
