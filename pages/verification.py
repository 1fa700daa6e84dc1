"""Data verification (10.2.2): the checks' open findings, and a manager's decision on each."""
from __future__ import annotations

import streamlit as st

from db.verification import VerificationRefused, decide, items, run_checks
from domain.i18n import t
from domain.verification import CHECKS, DECISIONS, STATES
from services.improvement import verification_detail, verification_frame
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, server_now, db, flash, lang, md, refusal, tr, words

guard("verification")
L = lang()
now = as_of()
live = server_now()  # writes and access decisions: the server's clock, never the replay instant
st.title(tr("page.verification"))
st.caption(tr("verify.intro"))
editor = allowed("edit_improvement")
if not editor:
    st.info(tr("verify.read_only"))
elif st.button(tr("verify.run"), key="verify_run", type="primary"):
    with st.spinner(tr("verify.run")):
        with db() as session:
            counts = run_checks(session, actor(), role(), live)
    flash(tr("verify.ran", n=sum(counts.values())))
    st.rerun()

c1, c2 = st.columns(2)
states = c1.multiselect(tr("verify.show"), STATES, default=["open"], format_func=words("verify.state"), key="verify_states")
checks = c2.multiselect(tr("verify.check"), CHECKS, format_func=words("verify.check"), placeholder=tr("common.choose"),
                        key="verify_checks")
with db() as session:
    rows = items(session, states, checks)
if not rows:
    st.success(tr("verify.none"))
    st.stop()
st.dataframe(verification_frame(rows, L), hide_index=True, width="stretch")

if editor:
    open_rows = {r["id"]: r for r in rows if r["state"] in ("open", "gone")}
    if open_rows:
        with st.form("verify_decide"):
            pick = st.selectbox(tr("verify.pick"), list(open_rows), key="verify_pick",
                                format_func=lambda i: f"{t('verify.check.' + open_rows[i]['check'], L)} · "
                                                      f"{open_rows[i]['key']} · {verification_detail(open_rows[i], L)}")
            decision = st.radio(tr("verify.decision"), DECISIONS, horizontal=True, format_func=words("verify.state"),
                                key="verify_decision")
            note = st.text_area(tr("verify.note"), max_chars=2000, key="verify_note")
            if st.form_submit_button(tr("verify.save")):
                try:
                    with db() as session:
                        decide(session, pick, decision, note, actor(), role(), live)
                except VerificationRefused as exc:
                    st.error(tr("verify.refused", error=md(refusal(exc))))
                else:
                    flash(tr("verify.saved"))
                    st.rerun()
