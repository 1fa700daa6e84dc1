"""我的质检 — a handler's assessments: the score, every item with the inspector's comment and the rule
engine's evidence; acknowledge, or dispute failed items with a reason each within the window."""
from __future__ import annotations

import streamlit as st

from db.coaching import CoachingRefused, acknowledge_coaching, coachings, complete_action
from db.disputes import DisputeRefused, acknowledge, my_assessments, open_dispute
from db.inspection import latest_scorecards
from db.library import pack_cases
from services.board import export_name
from services.library_view import pack_docx
from domain.timeutil import fmt_local
from db.users import display_names
from services.views import coaching_state, person
from ui.auth import actor, allowed, guard, my_handler_id, role
from ui.common import as_of, server_now, db, flash, lang, md, refusal, tr

guard("myqa")
L = lang()
now = as_of()
live = server_now()  # writes and access decisions: the server's clock, never the replay instant
st.title(tr("page.myqa"))
st.caption(tr("myqa.intro"))
mine = my_handler_id()
with db() as session:
    people = display_names(session)  # account -> the name colleagues know
    rows = my_assessments(session, mine, now) if mine is not None else []
    coached = coachings(session, mine) if mine is not None else []
    card = latest_scorecards(session)[0] if coached else {"items": []}
titles = {i["key"]: (i["title_zh"] if L == "zh" else i["title_en"]) for i in card["items"]}
if coached:
    st.markdown(f"#### {tr('myqa.coaching')}")
for c in coached:
    state = tr(f"coach.state.{coaching_state(c, now)}")
    with st.expander(tr("myqa.coach_head", coach=md(person(c["created_by"], people, L)), when=fmt_local(c["created_at"]),
                        follow_up=fmt_local(c["follow_up_at"]), state=state), expanded=c["closed_at"] is None):
        st.caption(tr("coach.items") + "：" + md("、".join(titles.get(k, k) for k in c["items"])))
        st.text(c["note"])  # the coach's words as plain text
        if c["case_nos"]:
            st.caption(tr("coach.cases") + "：" + md("、".join(c["case_nos"])))
            with db() as session:  # her study material: the library's de-identified records
                studied = pack_cases(session, c["case_nos"], now)
            st.download_button(tr("coach.pack"), pack_docx(tr("coach.pack_title", handler=c["handler"]), studied, now, L),
                               key=f"myqa_pack_{c['id']}", file_name=export_name(tr("coach.pack_file"), now, "docx"),
                               mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        answering = allowed("answer_coaching") and c["closed_at"] is None
        for a in c["actions"]:
            left, right = st.columns([5, 1])
            left.text(("✓ " if a["done_at"] else "□ ") + a["text"] + f"（{tr('coach.col.due')} {fmt_local(a['due_at'])}）")
            if answering and a["done_at"] is None and right.button(tr("myqa.action_done"), key=f"myqa_act_{a['id']}"):
                try:
                    with db() as session:
                        complete_action(session, a["id"], mine, actor(), role(), live)
                except CoachingRefused as exc:
                    st.error(tr("edit.refused", error=md(refusal(exc))))
                else:
                    flash(tr("myqa.action_marked"))
                    st.rerun()
        if answering and c["acknowledged_at"] is None and st.button(tr("myqa.coach_ack"), key=f"myqa_coach_ack_{c['id']}"):
            try:
                with db() as session:
                    acknowledge_coaching(session, c["id"], mine, actor(), role(), live)
            except CoachingRefused as exc:
                st.error(tr("edit.refused", error=md(refusal(exc))))
            else:
                flash(tr("myqa.coach_acked"))
                st.rerun()
if not rows:
    st.info(tr("myqa.none"))
    st.stop()
for a in rows:
    verdict = "—" if a["score"] is None else f"{a['score']:g}"
    state = (tr("myqa.acked") if a["acknowledged_at"] else
             tr(f"myqa.dispute.{a['dispute']['status']}") if a["dispute"] else tr("myqa.waiting", until=fmt_local(a["window_end"])))
    with st.expander(f"{md(a['case_no'])} · {tr('myqa.score')} {verdict} · {fmt_local(a['assessed_at'])} · {state}",
                     expanded=a["open"]):
        for i in a["items"]:
            sign = {"pass": "✓", "fail": "✗", "na": "—"}[i["verdict"]]
            st.text(f"{sign} {i['clause']} {i['title']}" + (f"：{i['comment']}" if i["comment"] else ""))
            if i["evidence"]:
                st.caption(md(i["evidence"]))
        if a["dispute"] and a["dispute"]["note"]:
            st.caption(tr("myqa.decision", who=md(person(a["dispute"]["decided_by"], people, L)), note=md(a["dispute"]["note"])))
        if not a["open"] or not allowed("dispute"):
            continue
        if st.button(tr("myqa.ack"), key=f"myqa_ack_{a['id']}"):
            try:
                with db() as session:
                    acknowledge(session, a["id"], mine, actor(), role())
            except DisputeRefused as exc:
                st.error(tr("edit.refused", error=md(refusal(exc))))
            else:
                flash(tr("myqa.acked"))
                st.rerun()
        failed = [i for i in a["items"] if i["verdict"] == "fail"]
        if failed:
            with st.form(f"myqa_dispute_{a['id']}"):
                st.caption(tr("myqa.dispute_help"))
                reasons = {i["key"]: st.text_input(f"{i['clause']} {i['title']}", key=f"myqa_r_{a['id']}_{i['key']}")
                           for i in failed}
                send = st.form_submit_button(tr("myqa.dispute"))
            if send:
                chosen = {k: v for k, v in reasons.items() if v.strip()}
                try:
                    with db() as session:
                        open_dispute(session, a["id"], chosen, mine, actor(), role())
                except DisputeRefused as exc:
                    st.error(tr("edit.refused", error=md(refusal(exc))))
                else:
                    flash(tr("myqa.disputed"))
                    st.rerun()
