"""Coaching (6.2, 6.3): from a handler's weak items to a plan she acknowledges, with typical cases to study,
action items and a follow-up that shows whether her verdicts on those items changed."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from db.coaching import CoachingRefused, close_coaching, coachings, create_coaching, follow_up, weak_items
from db.inspection import ensure_default_scorecard, handler_names, latest_scorecards
from db.library import LibraryFilters, pack_cases, search_library
from db.users import display_names
from domain.config import local_zone
from domain.timeutil import fmt_local
from services.board import export_name
from services.library_view import pack_docx
from services.views import coaching_state, person
from ui.auth import actor, allowed, current_user, guard, role
from ui.common import as_of, server_now, date_bounds, db, flash, lang, md, refusal, tr

guard("coaching")
L = lang()
now = as_of()
live = server_now()  # writes and access decisions: the server's clock, never the replay instant
st.title(tr("page.coaching"))
st.caption(tr("coach.intro"))

with db() as session:
    ensure_default_scorecard(session)
    card = latest_scorecards(session)[0]
    handlers = handler_names(session)
    people = display_names(session)
    rows = coachings(session)
titles = {i["key"]: (i["title_zh"] if L == "zh" else i["title_en"]) for i in card["items"]}
clauses = {i["key"]: [c.strip() for c in i["clause"].split(",")] for i in card["items"]}
today = now.astimezone(local_zone()).date()

new_tab, list_tab = st.tabs([tr("coach.tab.new"), tr("coach.tab.list")])
with new_tab:
    if not allowed("coach"):
        st.info(tr("coach.read_only"))
    elif not handlers:
        st.info(tr("coach.no_handlers"))
    else:
        asked = st.query_params.get("handler")  # from an assessment: ?handler=…&items=a,b&assessment=id
        handler = st.selectbox(tr("qa.col.handler"), handlers, key="coach_handler",
                               index=handlers.index(asked) if asked in handlers else 0)
        with db() as session:
            weak = weak_items(session, handler)
        st.caption(tr("coach.weak", items="、".join(titles.get(k, k) for k in weak)) if weak else tr("coach.no_weak"))
        preset = [k for k in (st.query_params.get("items") or "").split(",") if k in titles] or weak
        items = st.multiselect(tr("coach.items"), list(titles), default=[k for k in preset if k in titles],
                               format_func=lambda k: titles.get(k, k), placeholder=tr("common.choose"),
                               key=f"coach_items_{handler}")
        wanted = sorted({c for k in items for c in clauses.get(k, [])})
        with db() as session:
            suggested = search_library(session, LibraryFilters(clauses=wanted), limit=30) if wanted else []
        summaries = {e["case_no"]: e["summary"] for e in suggested}
        cases = st.multiselect(tr("coach.cases"), list(summaries), placeholder=tr("common.choose"),
                               format_func=lambda c: f"{c} · {summaries.get(c, '')[:40]}", key=f"coach_cases_{handler}")
        note = st.text_area(tr("coach.note"), key="coach_note", max_chars=2000)
        follow_day = st.date_input(tr("coach.follow_up"), value=today + timedelta(days=30), **date_bounds(),
                                   key="coach_follow")
        st.caption(tr("coach.actions_help"))
        actions = st.data_editor(pd.DataFrame({"text": ["", ""], "due": [today + timedelta(days=7), today + timedelta(days=14)]}),
                                 num_rows="dynamic", hide_index=True, width="stretch", key="coach_actions",
                                 column_config={"text": st.column_config.TextColumn(tr("coach.col.action"), max_chars=300),
                                                "due": st.column_config.DateColumn(tr("coach.col.due"), format="YYYY-MM-DD")})
        if st.button(tr("coach.create"), type="primary", key="coach_create"):
            todo = [(str(r["text"] or ""), datetime.combine(r["due"], time(18, 0), tzinfo=local_zone())
                     if pd.notna(r["due"]) else None) for r in actions.to_dict("records")]
            source = st.query_params.get("assessment")
            try:
                with db() as session:
                    create_coaching(session, handler, items, note, cases, todo,
                                    datetime.combine(follow_day, time(9, 0), tzinfo=local_zone()), actor(), role(), live,
                                    int(source) if source and source.isdigit() else None)
            except CoachingRefused as exc:
                st.error(tr("edit.refused", error=md(refusal(exc))))
            else:
                flash(tr("coach.created", handler=handler))
                st.rerun()

with list_tab:
    if not rows:
        st.info(tr("coach.none"))
        st.stop()
    st.dataframe(pd.DataFrame([{
        "#": r["id"], tr("qa.col.handler"): r["handler"],
        tr("coach.items"): "、".join(titles.get(k, k) for k in r["items"]),
        tr("coach.col.coach"): person(r["created_by"], people, L), tr("coach.col.created"): fmt_local(r["created_at"]),
        tr("coach.follow_up"): fmt_local(r["follow_up_at"]), tr("col.state"): tr(f"coach.state.{coaching_state(r, now)}"),
        tr("coach.col.done"): f"{sum(a['done_at'] is not None for a in r['actions'])}/{len(r['actions'])}",
    } for r in rows]), hide_index=True, width="stretch")
    chosen = st.selectbox(tr("coach.pick"), [r["id"] for r in rows], key="coach_pick",
                          format_func=lambda i: next(f"#{r['id']} {r['handler']}" for r in rows if r["id"] == i))
    r = next(x for x in rows if x["id"] == chosen)
    st.markdown(f"#### {tr('coach.note')}")
    st.text(r["note"])  # the coach's own words: plain text, never Markdown
    if r["case_nos"]:
        st.caption(tr("coach.cases") + "：" + md("、".join(r["case_nos"])))
        with db() as session:
            studied = pack_cases(session, r["case_nos"], now)
        title = tr("coach.pack_title", handler=r["handler"])
        st.download_button(tr("coach.pack"), pack_docx(title, studied, now, L), key=f"coach_pack_{r['id']}",
                           file_name=export_name(tr("coach.pack_file"), now, "docx"),
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    st.dataframe(pd.DataFrame([{tr("coach.col.action"): a["text"], tr("coach.col.due"): fmt_local(a["due_at"]),
                                tr("coach.col.done_at"): fmt_local(a["done_at"]) if a["done_at"] else "—"}
                               for a in r["actions"]]), hide_index=True, width="stretch")
    st.markdown(f"#### {tr('coach.compare')}")
    with db() as session:
        compared = follow_up(session, r["id"], now)
    pct = lambda v: "—" if v is None or pd.isna(v) else f"{v:.1f}"  # noqa: E731
    st.dataframe(pd.DataFrame({
        tr("qa.col.item_key"): compared["item_key"].map(lambda k: titles.get(k, k)),
        tr("coach.col.before_n"): compared["before_n"], tr("coach.col.before"): compared["before_fail"].map(pct),
        tr("coach.col.after_n"): compared["after_n"], tr("coach.col.after"): compared["after_fail"].map(pct),
        tr("coach.col.change"): compared["change"].map(lambda v: "—" if v is None or pd.isna(v) else f"{v:+.1f}"),
    }), hide_index=True, width="stretch")
    if r["closed_at"] is not None:
        st.success(tr("coach.closed", when=fmt_local(r["closed_at"])))
        st.text(r["outcome"] or "")
    elif allowed("coach"):
        with st.form("coach_close"):
            outcome = st.text_area(tr("coach.outcome"), max_chars=2000)
            if st.form_submit_button(tr("coach.close")):
                try:
                    with db() as session:
                        close_coaching(session, r["id"], outcome, (current_user() or {}).get("display_name") or actor(),
                                       actor(), role(), live)
                except CoachingRefused as exc:
                    st.error(tr("edit.refused", error=md(refusal(exc))))
                else:
                    flash(tr("coach.closed_now"))
                    st.rerun()
