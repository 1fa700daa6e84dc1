"""Rejection review (7.1.2): the rejected cases that wait for a supervisor, oldest first; confirm the ground
or overturn the rejection."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from db.reviews import OUTCOMES, ReviewRefused, overturned, review_queue, review_rejection
from domain.deid import scrub_text
from domain.timeutil import fmt_local
from domain.vocab import label
from rules.facts import VALID_GROUNDS
from db.users import display_names
from services.views import person
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, db, flash, lang, md, refusal, teams, tr, words

guard("reviews")
L = lang()
now = as_of()
st.title(tr("page.reviews"))
st.caption(tr("rev.intro"))

with db() as session:
    people = display_names(session)  # account -> the name colleagues know
    waiting = review_queue(session, now, teams())
    recent = overturned(session, now - timedelta(days=30), now, teams())

if not waiting:
    st.success(tr("rev.none"))
else:
    st.caption(tr("rev.count", n=len(waiting)))
    frame = pd.DataFrame([{
        tr("board.case"): r["case_no"], tr("col.received"): fmt_local(r["received_at"]),
        tr("rev.ground"): label("rejection_reason", r["rejection_reason"], L) if r["rejection_reason"] else "—",
        tr("search.handler"): r["handler"], tr("col.team"): r["team"] or "",
        tr("search.category"): label("category", r["category"], L),
    } for r in waiting])
    picked = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key="rev_table")
    rows = picked.selection.rows if picked else []
    if rows and allowed("review_rejection"):
        case = waiting[rows[0]]
        st.markdown(f"#### {md(case['case_no'])} · {md(case['subcategory'] or '')}")
        names = [case["customer_name"]] if case["customer_name"] else []
        st.caption(tr("col.description"))
        st.text(scrub_text(case["description"], names) or "—")  # de-identified, and never Markdown
        stated = label("rejection_reason", case["rejection_reason"], L) if case["rejection_reason"] else "—"
        st.caption(tr("rev.stated", ground=md(stated)))
        with st.form(f"rev_form_{case['case_no']}"):
            outcome = st.radio(tr("rev.outcome"), list(OUTCOMES), horizontal=True, key="rev_outcome",
                               format_func=words("rev.outcome"))
            grounds = list(VALID_GROUNDS)
            ground = st.selectbox(tr("rev.ground"), grounds, key="rev_ground",
                                  index=grounds.index(case["rejection_reason"]) if case["rejection_reason"] in grounds else 0,
                                  format_func=lambda g: label("rejection_reason", g, L))
            note = st.text_area(tr("rev.note"), key="rev_note", max_chars=1000)
            save = st.form_submit_button(tr("rev.save"), type="primary")
        if save:
            try:
                with db() as session:
                    review_rejection(session, case["case_no"], case["version"], outcome, ground, note, actor(),
                                     role(), now=None)
            except ReviewRefused as exc:
                st.error(tr("rev.refused", error=md(refusal(exc))))
            else:
                flash(tr("rev.saved", case_no=md(case["case_no"])))
                st.rerun()

st.markdown(f"#### {tr('rev.overturned_title')}")
if recent:
    st.dataframe(pd.DataFrame([{
        tr("board.case"): r["case_no"], tr("col.time"): fmt_local(r["reviewed_at"]), tr("search.handler"): r["handler"],
        tr("col.team"): r["team"] or "", tr("audit.actor"): person(r["reviewer"], people, L), tr("col.note"): r["note"],
    } for r in recent]), hide_index=True, width="stretch")
else:
    st.caption("—")
