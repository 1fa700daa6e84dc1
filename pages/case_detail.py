"""Case detail: every field, the contact timeline, the Appendix A flow and the case's flags."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import altair as alt
import streamlit as st

from db.audit import record as audit_record
from db.edits import EditRefused, add_contact
from db.library import CATEGORY_TAGS, CLAUSES, TEXT_FIELDS, LibraryRefused, current_mark, mark_history, mark_typical, unmark_typical
from db.queries import case_obligations, case_record
from db.board import DEADLINE_RULES
from db.notices import NoticeRefused, notices_for_case, send_notice
from db.repeats import case_repeats, policy
from db.reviews import case_review
from domain.config import local_zone
from domain.deid import scrub_text
from services.library_view import split_items
from domain.privacy import mask_name, mask_phone
from domain.timeutil import fmt_local, to_local
from services.views import LONG_TEXT, case_fields, case_texts, flags_table, flow_stages, person, timeline_frame
from domain.vocab import ENUMS, label
from rules.catalogue import BY_ID
from db.users import display_names
from ui.auth import actor, allowed, guard, my_handler_id, role
from ui.common import as_of, date_bounds, db, flash, lang, md, refusal, tr, words
from ui import charts

guard("detail")

L = lang()
now = as_of()


def record_unmask(session, who: str, case_no: str) -> None:
    audit_record(session, who, "unmask", "case", case_no, None, {"fields": ["customer_name", "customer_phone"]})

st.title(tr("page.detail"))

default = st.query_params.get("case") or st.session_state.get("detail_case_no", "")
case_no = st.text_input(tr("detail.pick"), value=default, key="detail_input").strip()
if not case_no:
    st.stop()
st.query_params["case"] = case_no

with db() as session:
    people = display_names(session)  # account -> the name colleagues know
    record = case_record(session, case_no)
    obligations = case_obligations(session, record["id"], now) if record else []
    review = case_review(session, record["id"]) if record else None
    notes = notices_for_case(session, record["id"]) if record else []
if record is None:
    st.warning(tr("detail.not_found", case_no=md(case_no)))
    st.stop()
if role() == "handler" and record["handler_id"] != my_handler_id():  # handlers see their own cases only
    st.error(tr("detail.not_yours"))
    st.stop()

unmask_key = f"detail_unmasked_{record['case_no']}"
names = [record["customer_name"]] if record["customer_name"] else []
unmasked = bool(st.session_state.get(unmask_key))
if not unmasked:
    # masked by default: the name and phone columns, and the same data inside the free text
    record = {**record, **{f: scrub_text(record[f], names) for f in TEXT_FIELDS + ("typical_summary",)},
              "contacts": [{**c, "note": scrub_text(c["note"], names)} for c in record["contacts"]],
              "customer_name": mask_name(record["customer_name"]), "customer_phone": mask_phone(record["customer_phone"])}
    if allowed("unmask"):
        if st.button(tr("detail.unmask"), key="detail_unmask"):
            with db() as session:
                record_unmask(session, actor(), record["case_no"])
            st.session_state[unmask_key] = True
            for key in ("mark_summary", "mark_lesson"):  # refill the mark form with the revealed text
                st.session_state.pop(key, None)
            st.rerun()
    else:
        st.caption(tr("detail.masked_note"))

st.subheader(md(f"{record['case_no']} · {label('category', record['category'], L)} · {record['subcategory'] or ''}"))

if review is not None and review["reviewed_at"] <= now:
    st.caption(tr("rev.case_line", outcome=tr(f"rev.outcome.{review['outcome']}"), who=md(person(review["reviewer"], people, L)),
                  when=fmt_local(review["reviewed_at"])))
flagged = flags_table(obligations, now, L)
st.markdown(f"#### {tr('detail.flags')}")
if flagged.empty:
    st.success(tr("detail.no_flags"))
else:
    st.dataframe(flagged, hide_index=True, width="stretch")

left, right = st.columns([3, 2])
with left:
    st.markdown(f"#### {tr('detail.timeline')}")
    frame = timeline_frame(record, obligations, now, L)
    # numeric time labels (no English month or weekday names), large enough to read
    chart = (alt.Chart(frame).mark_point(size=160, filled=True)
             .encode(x=alt.X("time:T", title=None, axis=alt.Axis(format=charts.MINUTE, labelAngle=0, labelFontSize=12)),
                     y=alt.Y("lane:N", title=None, axis=alt.Axis(labelFontSize=13)),
                     color=alt.Color("event:N", title=None, legend=alt.Legend(orient="bottom", labelFontSize=12)),
                     tooltip=[charts.tip("event:N", tr("col.event")), charts.tip("time:T", tr("col.time"), charts.FULL_MINUTE)])
             .properties(height=280))
    charts.show(chart, L)
    contacts = [{tr("col.time"): fmt_local(c["contact_at"]), tr("col.kind"): label("contact_kind", c["kind"], L),
                 tr("col.channel"): label("contact_channel", c["channel"], L), tr("col.note"): c["note"] or ""}
                for c in record["contacts"] if c["contact_at"] <= now]
    if contacts:
        st.dataframe(contacts, hide_index=True, width="stretch")
    else:
        st.caption(tr("detail.no_contacts"))
with right:
    st.markdown(f"#### {tr('detail.flow')}")
    for step in flow_stages(record, now, L):
        mark = ":material/check_circle:" if step["done"] else ":material/radio_button_unchecked:"
        st.markdown(f"{mark} {md(step['step'])}")
        if step["when"]:
            st.caption(step["when"])

st.markdown(f"#### {tr('detail.fields')}")
for title, text in case_texts(record, L):  # free text as text: a grid cell would cut it off
    with st.container(border=True):
        st.caption(title)
        st.markdown(md(text))
rows = case_fields(record, L, skip=LONG_TEXT)
half = (len(rows) + 1) // 2
c1, c2 = st.columns(2)
c1.dataframe(rows[:half], hide_index=True, width="stretch")
c2.dataframe(rows[half:], hide_index=True, width="stretch")

with db() as session:
    rule = policy(session)
    others = case_repeats(session, record["id"], rule)
if others:
    st.markdown(f"#### {tr('detail.repeats', days=rule.window_days)}")
    st.dataframe([{tr("board.case"): o["case_no"], tr("col.received"): fmt_local(o["received_at"]),
                   "": tr("detail.repeat_earlier") if o["earlier"] else tr("detail.repeat_later"),
                   tr("search.category"): label("category", o["category"], L), tr("lib.col.sub"): o["subcategory"] or "",
                   tr("search.handler"): o["handler"],
                   tr("detail.repeat_counts"): tr("detail.repeat_counts") if o["counts"] else tr("detail.repeat_other")}
                  for o in others], hide_index=True, width="stretch")
else:
    st.caption(tr("detail.repeats_none", days=rule.window_days))

version_key = f"detail_version_{record['case_no']}"
st.session_state.setdefault(version_key, record["version"])  # the version this page was loaded with
st.markdown(f"#### {tr('notice.list')}")
for n in notes:  # the 督办 notices on this case and their answers, oldest first
    rule = BY_ID[n["rule_id"]]
    st.caption(tr("notice.row", sent=fmt_local(n["sent_at"]), by=md(person(n["sent_by"], people, L)),
                  rule=rule.title_zh if L == "zh" else rule.title_en))
    st.text(n["message"])
    if n["answered_at"] is not None:
        st.caption(tr("notice.answer_row", when=fmt_local(n["answered_at"])))
        st.text(n["answer"])
    else:
        st.caption(tr("notice.waiting", reply_by=fmt_local(n["reply_by"])))
if not notes:
    st.caption("—")
if allowed("send_notice"):
    deadlines = [o["rule_id"] for o in obligations if o["rule_id"] in DEADLINE_RULES and o["state"] in ("open", "breached")]
    with st.expander(tr("notice.title") + " · " + record["handler"], expanded=False):
        with st.form("detail_notice"):
            rule_id = st.selectbox(tr("notice.rule"), deadlines or list(DEADLINE_RULES), key="notice_rule",
                                   format_func=lambda r: BY_ID[r].title_zh if L == "zh" else BY_ID[r].title_en)
            message = st.text_area(tr("notice.message"), key="notice_message", max_chars=1000)
            soon = (now + timedelta(hours=4)).astimezone(local_zone())
            c1, c2 = st.columns(2)
            reply_day = c1.date_input(tr("notice.reply_date"), value=soon.date(), **date_bounds(), key="notice_day")
            reply_clock = c2.time_input(tr("notice.reply_time"), value=time(soon.hour, soon.minute), key="notice_time")
            send = st.form_submit_button(tr("notice.send"), type="primary")
        if send:
            try:
                with db() as session:
                    send_notice(session, record["case_no"], rule_id, message,
                                datetime.combine(reply_day, reply_clock, tzinfo=local_zone()), actor(), role())
            except NoticeRefused as exc:
                st.error(tr("edit.refused", error=md(refusal(exc))))
            else:
                flash(tr("notice.sent", handler=md(record["handler"])))
                st.rerun()

if allowed("edit_case"):
    with st.form("detail_add_contact", clear_on_submit=True):
        st.markdown(f"#### {tr('edit.title')}")
        c1, c2, c3, c4 = st.columns(4)
        now_local = to_local(now)
        day = c1.date_input(tr("edit.date"), value=now_local.date(), **date_bounds(), key="edit_date")
        clock = c2.time_input(tr("edit.time"), value=now_local.time().replace(second=0, microsecond=0), key="edit_time")
        kind = c3.selectbox(tr("edit.kind"), list(ENUMS["contact_kind"]), key="edit_kind",
                            format_func=lambda v: label("contact_kind", v, L))
        channel = c4.selectbox(tr("edit.channel"), list(ENUMS["contact_channel"]), key="edit_channel",
                               format_func=lambda v: label("contact_channel", v, L))
        note = st.text_input(tr("edit.note"), key="edit_note", max_chars=500)
        if st.form_submit_button(tr("edit.save")):
            at = datetime.combine(day, clock, tzinfo=local_zone()).astimezone(timezone.utc)
            try:
                with db() as session:
                    add_contact(session, record["case_no"], st.session_state[version_key], at, kind, channel,
                                note, actor())
            except EditRefused as exc:
                st.error(tr("edit.refused", error=md(refusal(exc))))
            else:
                st.session_state.pop(version_key, None)
                flash(tr("edit.saved"))
                st.rerun()

if allowed("mark_typical"):
    with db() as session:
        mark = current_mark(session, record["id"])
        history = mark_history(session, record["id"])
    if not unmasked:  # the library text as every masked view shows it; the raw text only after a reveal
        mark = mark and {**mark, "summary": scrub_text(mark["summary"], names), "lesson": scrub_text(mark["lesson"], names)}
        history = [{**h, "summary": scrub_text(h["summary"], names)} for h in history]
    with st.expander(tr("lib.mark_title") + (" · " + tr("lib.marked") if mark else ""), expanded=bool(mark)):
        with st.form("detail_mark"):
            summary = st.text_area(tr("lib.summary_input"), key="mark_summary",
                                   value=mark["summary"] if mark else (record["typical_summary"] or ""))
            lesson = st.text_area(tr("lib.col.lesson"), value=mark["lesson"] if mark else "", key="mark_lesson")
            c0, c1, c2, c3 = st.columns(4)
            known = [t for t in (mark["tags"] if mark else []) if t in CATEGORY_TAGS]
            kinds = c0.multiselect(tr("lib.category_tags"), list(CATEGORY_TAGS), default=known,
                                   placeholder=tr("common.choose"), key="mark_kinds")
            own = [t for t in (mark["tags"] if mark else []) if t not in CATEGORY_TAGS]
            tags = c1.text_input(tr("lib.tags_input"), value="、".join(own), key="mark_tags")
            clauses = c2.multiselect(tr("lib.col.clauses"), list(CLAUSES), default=mark["clauses"] if mark else [],
                                     placeholder=tr("common.choose"), key="mark_clauses")
            example = c3.radio(tr("lib.col.example"), ["good", "bad"], horizontal=True, key="mark_example",
                               index=["good", "bad"].index(mark["example"]) if mark and mark["example"] else None,
                               format_func=words("lib.example"))
            save_mark = st.form_submit_button(tr("lib.mark_save"))
        if save_mark:
            free = list(kinds) + split_items(tags)
            try:
                with db() as session:
                    mark_typical(session, record["case_no"], st.session_state[version_key], summary, lesson,
                                 free, clauses, example, actor())
            except LibraryRefused as exc:
                st.error(tr("edit.refused", error=md(refusal(exc))))
            else:
                st.session_state.pop(version_key, None)
                flash(tr("lib.mark_saved"))
                st.rerun()
        if mark and st.button(tr("lib.unmark"), key="mark_unmark"):
            try:
                with db() as session:
                    unmark_typical(session, record["case_no"], st.session_state[version_key], actor())
            except LibraryRefused as exc:
                st.error(tr("edit.refused", error=md(refusal(exc))))
            else:
                st.session_state.pop(version_key, None)
                flash(tr("lib.unmarked"))
                st.rerun()
        if history:
            st.caption(tr("lib.history"))
            st.dataframe([{tr("lib.col.when"): fmt_local(h["marked_at"]), tr("lib.col.by"): h["marked_by"],
                           tr("lib.col.summary"): h["summary"],
                           tr("lib.col.ended"): (tr(f"lib.end.{h['end_reason']}") + " " + fmt_local(h["ended_at"])
                                                 + " " + (h["ended_by"] or "")) if h["end_reason"] else tr("lib.current")}
                          for h in history], hide_index=True, width="stretch")

with st.expander(tr("detail.obligations")):
    st.dataframe(flags_table(obligations, now, L, only_flags=False), hide_index=True, width="stretch")
