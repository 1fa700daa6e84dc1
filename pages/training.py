"""Training sessions on typical cases (6.2): record who trained whom with which cases, and show that the
training is regular."""
from __future__ import annotations

from datetime import datetime, time, timezone

import streamlit as st

from db.library import LibraryFilters, LibraryRefused, record_training, search_library, trainings
from domain.config import local_zone
from db.users import display_names
from services.library_view import split_items, training_months
from services.views import person
from domain.timeutil import fmt_local
from ui.auth import actor, allowed, current_user, guard
from ui.common import as_of, date_bounds, db, flash, lang, md, refusal, tr

guard("training")
L = lang()
now = as_of()
st.title(tr("page.training"))

with db() as session:
    sessions = trainings(session)
    names = display_names(session)
    library = [e["case_no"] for e in search_library(session, LibraryFilters(), limit=100000)]

if allowed("record_training"):
    with st.form("training_form", clear_on_submit=True):
        st.markdown(f"#### {tr('train.new')}")
        c1, c2, c3 = st.columns(3)
        local = now.astimezone(local_zone())
        day = c1.date_input(tr("train.date"), value=local.date(), **date_bounds(), key="train_date")
        clock = c2.time_input(tr("train.time"), value=time(14, 0), key="train_time")
        trainer = c3.text_input(tr("train.trainer"), value=(current_user() or {}).get("display_name", ""), key="train_trainer")
        topic = st.text_input(tr("train.topic"), key="train_topic", max_chars=200)
        attendees = st.text_area(tr("train.attendees"), key="train_attendees", help=tr("train.attendees_help"))
        cases = st.multiselect(tr("train.cases"), library, default=[c for c in st.session_state.get("lib_pack", []) if c in library],
                               placeholder=tr("common.choose"), key="train_cases")
        if st.form_submit_button(tr("train.save")):
            held = datetime.combine(day, clock, tzinfo=local_zone()).astimezone(timezone.utc)
            people = split_items(attendees)
            try:
                with db() as session:
                    record_training(session, held, trainer, topic, people, cases, actor())
            except LibraryRefused as exc:
                st.error(tr("train.refused", error=md(refusal(exc))))
            else:
                flash(tr("train.saved"))
                st.rerun()

if not sessions:
    st.info(tr("train.none"))
    st.stop()
monthly = training_months(sessions, local_zone())
last = max(s["held_at"] for s in sessions)
gap = (now - last).days
(st.warning if gap > 31 else st.success)(tr("train.last", when=fmt_local(last), days=gap))
st.dataframe(monthly.rename(columns={"month": tr("qa.col.month"), "sessions": tr("train.sessions"),
                                     "attendees": tr("train.attendee_count")}), hide_index=True)
st.dataframe([{tr("train.date"): fmt_local(s["held_at"]), tr("train.trainer"): s["trainer"], tr("train.topic"): s["topic"],
               tr("train.attendees"): "、".join(s["attendees"]), tr("train.cases"): "、".join(s["case_nos"]),
               tr("qa.created_by"): person(s["created_by"], names, L)} for s in sessions], hide_index=True, width="stretch")
