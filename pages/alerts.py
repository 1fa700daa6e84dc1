"""Alerts: the worker's status, the policy (admins edit it, with a preview of what it would have sent
yesterday), the channels with a test button, and the log of what was sent to whom."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from db import alerts as store
from db.obligations import thresholds
from db.queries import team_names
from domain import clock
from domain.alerts import DEADLINE_RULES, KINDS, NOTICE, TARGETS, WHEN, PolicyInvalid, dumps
from domain.vocab import ENUMS, label
from domain.config import local_zone
from domain.timeutil import fmt_local
from services.alerts import TRIGGER_COLUMNS, policy_from_form, policy_rows, send_test
from services.channels import Undelivered, load_settings
from services.views import rule_title
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, db, flash, lang, md, refusal, tr, words

guard("alerts")
L = lang()
now = as_of()
st.title(tr("page.alerts"))
with db() as session:
    status = store.status_line(session, now)
    policy = store.current_policy(session)
    th = thresholds(session)
    today = datetime.combine(now.astimezone(local_zone()).date(), time(0), tzinfo=local_zone())
    would, cases = store.preview(session, policy, th, today - timedelta(days=1), today)
    entries = store.log(session, now - timedelta(days=7))

beat = status["heartbeat"]
st.caption(tr("al.status", beat=tr("al.beat", when=fmt_local(beat["at"])) if beat else tr("al.no_beat"),
              sent=status["sent_hour"], failed=status["failed_day"], pending=status["pending"]))

st.markdown(f"#### {tr('al.policy', version=policy.version) if policy.version else tr('al.default')}")
st.dataframe(pd.DataFrame([{
    tr("col.rule"): tr("al.notice_rule") if t.rule_id == "NOTICE" else rule_title(t.rule_id, L),
    tr("al.col.level"): t.level, tr("al.col.moment"): tr(f"al.when.{t.when}"),
    tr("al.col.percent"): "" if t.percent is None else f"{t.percent:g}%",
    tr("al.col.hours"): "" if t.hours is None else f"{t.hours:g}",
    tr("al.col.repeat"): f"{t.repeat_hours:g} × {t.max_repeats}" if t.repeat_hours else "",
    tr("al.col.target"): "、".join(tr(f"al.target.{x}") for x in t.targets),
    tr("al.col.via"): "、".join(tr(f"al.kind.{v}") for v in t.via) if t.via else tr("al.all"), tr("al.col.urgent"): "✓" if t.urgent else "",
} for t in policy.triggers]), hide_index=True, width="stretch")
if policy.quiet_start and policy.quiet_end:
    st.caption(tr("al.quiet", start=policy.quiet_start.strftime("%H:%M"), end=policy.quiet_end.strftime("%H:%M")))
st.info(tr("al.preview", n=would, cases=cases))

if allowed("edit_alerts"):
    with st.expander(tr("al.edit_form"), expanded=False):
        with db() as session:
            team_options = team_names(session)
        with st.form("al_policy_form"):
            st.caption(tr("al.form_help"))
            edited = st.data_editor(
                pd.DataFrame(policy_rows(policy), columns=TRIGGER_COLUMNS), num_rows="dynamic", hide_index=True,
                width="stretch", key=f"al_triggers_{policy.version}",
                column_config={
                    "rule_id": st.column_config.SelectboxColumn(tr("col.rule"), options=[*DEADLINE_RULES, NOTICE],
                                                                format_func=lambda r: tr("al.notice_rule") if r == NOTICE else rule_title(r, L),
                                                                required=True),
                    "level": st.column_config.NumberColumn(tr("al.col.level"), min_value=1, max_value=9, step=1),
                    "when": st.column_config.SelectboxColumn(tr("al.col.moment"), options=list(WHEN),
                                                             format_func=words("al.when"), required=True),
                    "percent": st.column_config.NumberColumn(tr("al.col.percent"), min_value=0, max_value=100),
                    "hours": st.column_config.NumberColumn(tr("al.col.hours"), min_value=0, max_value=720),
                    "repeat_hours": st.column_config.NumberColumn(tr("al.col.repeat_hours"), min_value=0, max_value=168),
                    "max_repeats": st.column_config.NumberColumn(tr("al.col.max_repeats"), min_value=0, max_value=20, step=1),
                    "targets": st.column_config.MultiselectColumn(tr("al.col.target"), options=list(TARGETS),
                                                                  format_func=words("al.target")),
                    "via": st.column_config.MultiselectColumn(tr("al.col.via"), options=list(KINDS),
                                                              format_func=words("al.kind")),
                    "urgent": st.column_config.CheckboxColumn(tr("al.col.urgent")),
                })
            q1, q2 = st.columns(2)
            quiet_start = q1.time_input(tr("al.quiet_start"), value=policy.quiet_start, key="al_quiet_start", step=900)
            quiet_end = q2.time_input(tr("al.quiet_end"), value=policy.quiet_end, key="al_quiet_end", step=900)
            f1, f2, f3 = st.columns(3)
            scope_teams = f1.multiselect(tr("col.team"), team_options, default=[t for t in policy.teams if t in team_options],
                                         placeholder=tr("al.all"), key="al_scope_teams")
            scope_categories = f2.multiselect(tr("search.category"), list(ENUMS["category"]), default=list(policy.categories),
                                              format_func=lambda v: label("category", v, L), placeholder=tr("al.all"),
                                              key="al_scope_categories")
            scope_channels = f3.multiselect(tr("board.channels"), list(ENUMS["channel"]), default=list(policy.channels),
                                            format_func=lambda v: label("channel", v, L), placeholder=tr("al.all"),
                                            key="al_scope_channels")
            save_form = st.form_submit_button(tr("al.save"), type="primary")
        if save_form:
            body = policy_from_form(edited.to_dict("records"), quiet_start, quiet_end, scope_teams, scope_categories,
                                    scope_channels, policy.quiet)
            try:
                with db() as session:
                    saved = store.save_policy(session, body, actor(), role(), clock.local_now())
            except (PolicyInvalid, ValueError) as exc:
                st.error(tr("al.invalid", error=md(refusal(exc))))
            else:
                flash(tr("al.saved", version=saved.version))
                st.rerun()
    with st.expander(tr("al.edit")):
        with st.form("al_policy"):
            raw = st.text_area(tr("al.json"), value=dumps(policy), height=260, key="al_policy_json")
            save = st.form_submit_button(tr("al.save"), type="primary")
        if save:
            try:
                with db() as session:
                    saved = store.save_policy(session, raw, actor(), role(), clock.local_now())
            except (PolicyInvalid, ValueError) as exc:
                st.error(tr("al.invalid", error=md(refusal(exc))))
            else:
                flash(tr("al.saved", version=saved.version))
                st.rerun()
    settings = load_settings()
    names = list(settings.channels) + (["email"] if settings.smtp.get("host") else [])
    if not names:
        st.caption(tr("al.no_channels"))
    else:
        c1, c2, c3 = st.columns([2, 2, 1])
        channel = c1.selectbox(tr("al.channel"), names, key="al_test_channel")
        address = c2.text_input(tr("al.email"), key="al_test_address") if channel == "email" else ""
        if c3.button(tr("al.test"), key="al_test"):
            try:
                send_test(settings, channel, address)
            except Undelivered as exc:
                st.error(tr("al.test_failed", error=md(refusal(exc))))
            else:
                st.success(tr("al.test_ok", channel=md(channel)))

st.markdown(f"#### {tr('al.log')}")
if not entries:
    st.info(tr("al.no_log"))
    st.stop()
st.dataframe(pd.DataFrame([{
    tr("al.col.when"): fmt_local(e["created_at"]), tr("board.case"): e["case_no"] or "—",
    tr("al.col.target"): tr(f"al.target.{e['target']}"), tr("al.channel"): e["channel"],
    tr("al.col.status"): tr(f"al.status.{e['status']}"), tr("al.col.attempts"): e["attempts"],
    tr("al.col.error"): e["last_error"] or "", tr("al.col.body"): e["body"],
} for e in entries]), hide_index=True, width="stretch")
