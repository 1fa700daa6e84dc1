"""我的待办 — a handler's own page: her open deadlines (least time left first) and the 督办 notices
addressed to her, which she acknowledges and answers."""
from __future__ import annotations

from datetime import datetime, time

import streamlit as st

from db import board as q
from db.notices import NoticeRefused, acknowledge, answer, notices_for_handler
from db.queries import handler_name
from domain.config import local_zone
from domain.timeutil import fmt_local
from rules.catalogue import BY_ID
from services import board as view
from db.users import display_names
from services.views import person
from ui.auth import actor, allowed, guard, my_handler_id, role
from ui.common import as_of, date_bounds, db, flash, lang, md, refusal, tr

guard("mytodo")
L = lang()
now = as_of()
st.title(tr("page.mytodo"))
mine = my_handler_id()
with db() as session:
    people = display_names(session)  # account -> the name colleagues know
    name = handler_name(session, mine) if mine is not None else None
if name is None:
    st.warning(tr("todo.unlinked"))
    st.stop()
st.caption(tr("todo.intro", name=md(name)))

with db() as session:
    queue = q.open_deadlines(session, now, mine)
    notes = notices_for_handler(session, mine)

st.markdown(f"#### {tr('todo.deadlines')}")
frame = view.queue_frame(queue, now, L)
if frame.empty:
    st.success(tr("todo.nothing_owed"))
else:
    picked = st.dataframe(frame, hide_index=True, width="stretch", key="todo_queue", on_select="rerun",
                          selection_mode="single-row",
                          column_order=[c for c in frame.columns if c not in ("overdue", "link")])
    rows = picked.selection.rows if picked else []
    if rows:
        st.switch_page("pages/case_detail.py", query_params={"case": frame.iloc[rows[0]][tr("board.case")]})

st.markdown(f"#### {tr('todo.notices')}")
if not notes:
    st.info(tr("todo.no_notices"))
for n in notes:
    rule = BY_ID[n["rule_id"]]
    late = n["answered_at"] is None and n["reply_by"] < now
    head = tr("todo.notice_head", case_no=md(n["case_no"]), rule=rule.title_zh if L == "zh" else rule.title_en,
              by=md(person(n["sent_by"], people, L)), reply_by=fmt_local(n["reply_by"]))
    with st.container(border=True):
        (st.error if late else st.markdown)(head)
        st.text(n["message"])  # the team lead's words, as plain text
        if n["answered_at"] is not None:
            st.caption(tr("todo.answered", when=fmt_local(n["answered_at"])))
            st.text(n["answer"])
            continue
        if n["acknowledged_at"] is None and allowed("answer_notice"):
            if st.button(tr("todo.ack"), key=f"todo_ack_{n['id']}"):
                try:
                    with db() as session:
                        acknowledge(session, n["id"], actor(), role(), mine)
                except NoticeRefused as exc:
                    st.error(tr("edit.refused", error=md(refusal(exc))))
                else:
                    flash(tr("todo.acked"))
                    st.rerun()
        elif n["acknowledged_at"] is not None:
            st.caption(tr("todo.acked_at", when=fmt_local(n["acknowledged_at"])))
        if allowed("answer_notice"):
            with st.form(f"todo_answer_{n['id']}"):
                text = st.text_area(tr("todo.answer"), key=f"todo_text_{n['id']}", max_chars=1000)
                c1, c2, c3 = st.columns(3)
                contacted = c1.checkbox(tr("todo.contacted"), key=f"todo_contacted_{n['id']}")
                local = now.astimezone(local_zone())
                day = c2.date_input(tr("edit.date"), value=local.date(), **date_bounds(), key=f"todo_day_{n['id']}")
                clock = c3.time_input(tr("edit.time"), value=time(local.hour, local.minute), key=f"todo_time_{n['id']}")
                send = st.form_submit_button(tr("todo.send_answer"), type="primary")
            if send:
                at = datetime.combine(day, clock, tzinfo=local_zone()) if contacted else None
                try:
                    with db() as session:
                        answer(session, n["id"], text, at, actor(), role(), mine)
                except NoticeRefused as exc:
                    st.error(tr("edit.refused", error=md(refusal(exc))))
                else:
                    flash(tr("todo.answer_saved"))
                    st.rerun()
