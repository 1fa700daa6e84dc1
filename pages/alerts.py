"""Alerts: the worker's status, the policy (admins edit it, with a preview of what it would have sent
yesterday), the channels with a test button, and the log of what was sent to whom."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from db import alerts as store
from db.obligations import thresholds
from domain.alerts import PolicyInvalid, dumps
from domain.config import local_zone
from domain.timeutil import fmt_local
from services.alerts import send_test
from services.channels import Undelivered, load_settings
from services.views import rule_title
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, db, flash, lang, md, refusal, tr

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
    tr("al.col.via"): "、".join(t.via) if t.via else tr("al.all"), tr("al.col.urgent"): "✓" if t.urgent else "",
} for t in policy.triggers]), hide_index=True, width="stretch")
if policy.quiet_start and policy.quiet_end:
    st.caption(tr("al.quiet", start=policy.quiet_start.strftime("%H:%M"), end=policy.quiet_end.strftime("%H:%M")))
st.info(tr("al.preview", n=would, cases=cases))

if allowed("edit_alerts"):
    with st.expander(tr("al.edit")):
        with st.form("al_policy"):
            raw = st.text_area(tr("al.json"), value=dumps(policy), height=260, key="al_policy_json")
            save = st.form_submit_button(tr("al.save"), type="primary")
        if save:
            try:
                with db() as session:
                    saved = store.save_policy(session, raw, actor(), role(), datetime.now(local_zone()))
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
