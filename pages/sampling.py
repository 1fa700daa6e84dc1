"""Sampling plans (6.3): define a population and a method, preview, draw with a stored seed, assign."""
from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from db.inspection import (AssessmentRefused, Population, assignments, create_plan, ensure_default_scorecard,
                           handler_names, inspectors, latest_scorecards, plans, population_for, reassign, redraw)
from db.queries import team_names
from db.users import display_names
from domain.config import local_zone
from domain.sampling import METHODS, STRATA, Method, SampleInvalid, draw, size_note
from domain.timeutil import fmt_local
from domain.vocab import ENUMS, label
from services.views import person, stratum_word
from ui.auth import actor, allowed, guard
from ui.common import as_of, server_now, confirmed, date_bounds, db, flash, lang, md, refusal, tr, words

guard("sampling")
L = lang()
now = as_of()
live = server_now()  # writes and access decisions: the server's clock, never the replay instant
st.title(tr("page.sampling"))



with db() as session:
    ensure_default_scorecard(session)
    cards = latest_scorecards(session)
    people = inspectors(session)
    names = display_names(session)
    all_teams = team_names(session)
    all_handlers = handler_names(session)

new_tab, list_tab = st.tabs([tr("qa.new_plan"), tr("qa.plans")])

with new_tab:
    today = now.astimezone(local_zone()).date()
    first_of_month = today.replace(day=1)
    last_month_start = (first_of_month - timedelta(days=1)).replace(day=1)
    c1, c2, c3 = st.columns([2, 1, 2])
    name = c1.text_input(tr("qa.plan_name"), value=f"{last_month_start:%Y-%m} {tr('qa.default_plan')}", key="smp_name")
    purpose = c2.radio(tr("qa.purpose"), ["regular", "calibration"], key="smp_purpose",
                       format_func=words("qa.purpose"), horizontal=True)
    period = c3.date_input(tr("qa.period"), value=(last_month_start, first_of_month - timedelta(days=1)), **date_bounds(), key="smp_period")
    c1, c2, c3, c4 = st.columns(4)
    teams = c1.multiselect(tr("col.team"), all_teams, placeholder=tr("common.choose"), key="smp_teams")
    handlers = c2.multiselect(tr("qa.col.handler"), all_handlers, placeholder=tr("common.choose"), key="smp_handlers")
    categories = c3.multiselect(tr("qa.col.category"), list(ENUMS["category"]), placeholder=tr("common.choose"), key="smp_categories",
                                format_func=lambda v: label("category", v, L))
    channels = c4.multiselect(tr("qa.col.channel"), list(ENUMS["channel"]), placeholder=tr("common.choose"), key="smp_channels",
                              format_func=lambda v: label("channel", v, L))
    c1, c2, c3 = st.columns(3)
    include_open = c1.checkbox(tr("qa.include_open"), key="smp_open")
    include_assessed = c2.checkbox(tr("qa.include_assessed"), key="smp_assessed")
    flags = c3.selectbox(tr("qa.flags"), ["any", "with", "without"], key="smp_flags",
                         format_func=words("qa.flags"))
    st.divider()
    c1, c2, c3, c4 = st.columns(4)
    method = c1.selectbox(tr("qa.method"), list(METHODS), key="smp_method", format_func=words("qa.method"))
    by_share = c2.radio(tr("qa.size_by"), ["n", "percent"], key="smp_size_by", horizontal=True,
                        format_func=words("qa.size_by"), disabled=method == "quota")
    size = c3.number_input(tr("qa.size"), min_value=1, max_value=100000, value=30, step=1, key="smp_size",
                           disabled=method == "quota" or by_share != "n")
    percent = c4.number_input(tr("qa.percent"), min_value=0.1, max_value=100.0, value=5.0, step=0.5, key="smp_percent",
                              disabled=method == "quota" or by_share != "percent")
    c1, c2, c3, c4 = st.columns(4)
    strata = c1.multiselect(tr("qa.strata"), list(STRATA), default=["team"], placeholder=tr("common.choose"), key="smp_strata",
                            format_func=words("qa.col"), disabled=method != "stratified")
    minimum = c2.number_input(tr("qa.minimum"), min_value=0, max_value=1000, value=2, key="smp_minimum", disabled=method != "stratified")
    per_handler = c3.number_input(tr("qa.per_handler"), min_value=1, max_value=1000, value=5, key="smp_per_handler",
                                  disabled=method != "quota")
    weight = c4.number_input(tr("qa.weight_flagged"), min_value=1.0, max_value=100.0, value=3.0, step=0.5, key="smp_weight",
                             disabled=method != "risk")
    st.session_state.setdefault("smp_seed", secrets.randbelow(2**31 - 1))
    c1, c2, c3 = st.columns([1, 2, 1])
    seed = int(c1.number_input(tr("qa.seed"), min_value=0, max_value=2**31 - 2, step=1, key="smp_seed"))
    chosen = c2.multiselect(tr("qa.inspectors"), people, placeholder=tr("common.choose"), key="smp_inspectors",
                            format_func=lambda u: person(u, names, L))
    card_id = c3.selectbox(tr("qa.scorecard"), [c["id"] for c in cards], key="smp_card",
                           format_func=lambda i: next(f"{c['name']} v{c['version']}" for c in cards if c["id"] == i))
    deadline = threshold = None
    if purpose == "calibration":  # a blind calibration session: answers hidden until its deadline or close
        d1, d2, d3 = st.columns(3)
        due_day = d1.date_input(tr("qa.cal_deadline"), value=today + timedelta(days=7), **date_bounds(), key="smp_cal_day")
        due_time = d2.time_input(tr("qa.cal_deadline_time"), value=time(18, 0), key="smp_cal_time", step=900)
        threshold = d3.number_input(tr("qa.cal_threshold"), min_value=0.0, max_value=0.25, value=0.1, step=0.01,
                                    key="smp_cal_threshold")
        deadline = datetime.combine(due_day, due_time, tzinfo=local_zone())

    if isinstance(period, (tuple, list)) and len(period) == 2:
        start = datetime.combine(period[0], time(0), tzinfo=local_zone())
        end = datetime.combine(period[1] + timedelta(days=1), time(0), tzinfo=local_zone())
    else:
        st.warning(tr("qa.need_period"))
        st.stop()
    pop = Population(start=start, end=end, include_open=include_open, teams=teams, handlers=handlers,
                     categories=categories, channels=channels, flags=flags, include_assessed=include_assessed)
    m = Method(method=method, size=int(size) if method != "quota" and by_share == "n" else None,
               percent=float(percent) if method != "quota" and by_share == "percent" else None,
               strata=list(strata), minimum=int(minimum), per_handler=int(per_handler), weight=float(weight))

    b1, b2 = st.columns(2)
    if b1.button(tr("qa.preview"), key="smp_preview"):
        try:
            with st.spinner(tr("qa.working")), db() as session:
                frame = population_for(session, pop, m, card_id, now)
            sample = draw(frame, m, seed)
        except SampleInvalid as exc:
            st.error(tr("qa.invalid", error=md(refusal(exc))))
        else:
            share_pop = 100 * frame["flagged"].mean() if len(frame) else 0
            share_smp = 100 * sample["flagged"].mean() if len(sample) else 0
            st.info(tr("qa.preview_text", population=len(frame), sample=len(sample),
                       pop_flagged=f"{share_pop:.1f}", smp_flagged=f"{share_smp:.1f}"))
            note = size_note(len(frame), m, len(sample))
            if note:
                st.caption(tr(note[0], **note[1]))
            if len(sample):
                strata_counts = (sample.assign(stratum=sample["stratum"].map(lambda x: stratum_word(x, L)))
                                 .groupby("stratum").size().reset_index(name="n"))
                st.dataframe(strata_counts.rename(columns={"stratum": tr("qa.col.stratum"), "n": tr("qa.col.cases")}),
                             hide_index=True)
    if allowed("sample") and confirmed(tr("qa.draw"), "smp_draw", tr("qa.confirm_draw"), where=b2, type="primary"):
        try:
            with st.spinner(tr("qa.working")), db() as session:
                sizes: dict[str, int] = {}
                plan_id, n = create_plan(session, name, purpose, m, pop, seed, chosen, card_id, actor(), live, sizes,
                                         deadline=deadline, threshold=threshold)
        except SampleInvalid as exc:
            st.error(tr("qa.invalid", error=md(refusal(exc))))
        else:
            st.success(tr("qa.drawn", id=plan_id, n=n))
            note = size_note(sizes["population"], m, sizes["sample"])
            if note:
                st.caption(tr(note[0], **note[1]))
            st.session_state.pop("smp_seed", None)

with list_tab:
    with db() as session:
        rows = plans(session)
    if not rows:
        st.info(tr("qa.no_plans"))
        st.stop()
    table = pd.DataFrame([{"ID": r["id"], tr("qa.plan_name"): r["name"], tr("qa.purpose"): tr(f"qa.purpose.{r['purpose']}"),
                           tr("qa.method"): tr(f"qa.method.{r['method']}"), tr("qa.seed"): r["seed"],
                           tr("qa.drawn_at"): fmt_local(r["drawn_at"]), tr("qa.population"): r["population"],
                           tr("qa.col.cases"): r["items"], tr("qa.done"): r["assessed"],
                           tr("qa.inspectors"): "、".join(person(u, names, L) for u in r["inspectors"]),
                           tr("qa.created_by"): person(r["created_by"], names, L)}
                          for r in rows])
    st.dataframe(table, hide_index=True, width="stretch")
    plan_id = st.selectbox(tr("qa.plan"), [r["id"] for r in rows], key="smp_plan",
                           format_func=lambda i: next(f"#{r['id']} {r['name']}" for r in rows if r["id"] == i))
    with db() as session:
        items = assignments(session, plan_id=plan_id)
    st.dataframe([{"#": i["id"], tr("qa.col.case_no"): i["case_no"], tr("qa.col.assignee"): person(i["assignee"], names, L),
                   tr("qa.col.stratum"): stratum_word(i["stratum"], L), tr("qa.col.handler"): i["handler"],
                   tr("qa.col.team"): i["team"] or "", tr("qa.col.score"): i["score"],
                   tr("qa.assessed_at"): fmt_local(i["assessed_at"])} for i in items], hide_index=True, width="stretch")
    if st.button(tr("qa.redraw"), key="smp_redraw"):
        with db() as session:
            again, same = redraw(session, plan_id)
        stored = sorted({i["case_no"] for i in items})
        if sorted(again["case_no"]) == stored:
            st.success(tr("qa.redraw_same", n=len(stored)))
        else:
            st.warning(tr("qa.redraw_differs" if same else "qa.redraw_population_changed"))
    if allowed("sample"):
        open_items = [i for i in items if i["assessed_at"] is None]
        if open_items and people:
            c1, c2, c3 = st.columns([2, 2, 1])
            which = c1.selectbox(tr("qa.reassign_item"), [i["id"] for i in open_items], key="smp_re_item",
                                 format_func=lambda i: next(f"{x['case_no']}（{person(x['assignee'], names, L)}）"
                                                           for x in open_items if x["id"] == i))
            to = c2.selectbox(tr("qa.reassign_to"), people, key="smp_re_to", format_func=lambda u: person(u, names, L))
            if c3.button(tr("qa.reassign"), key="smp_re_go"):
                try:
                    with db() as session:
                        reassign(session, which, to, actor())
                except AssessmentRefused as exc:
                    st.error(tr("qa.refused", error=md(refusal(exc))))
                else:
                    flash(tr("qa.reassigned"))
                    st.rerun()
