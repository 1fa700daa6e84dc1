"""Admin: search the audit trail (who changed what, when, before and after)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from db.audit import search
from domain.config import local_zone
from domain.timeutil import fmt_local
from ui.auth import guard
from ui.common import date_bounds, db, tr

guard("audit")
st.title(tr("page.audit"))
with st.form("audit_form"):
    c1, c2, c3, c4 = st.columns(4)
    who = c1.text_input(tr("audit.actor"), key="audit_actor")
    action = c2.selectbox(tr("audit.action"), ["", "import", "set_thresholds", "unmask", "create_user", "set_active",
                                               "lockout"], key="audit_action")
    key = c3.text_input(tr("audit.key"), key="audit_key")
    today = datetime.now(local_zone()).date()
    period = c4.date_input(tr("audit.period"), value=(today - timedelta(days=30), today), **date_bounds(), key="audit_period")
    st.form_submit_button(tr("search.submit"))
since = until = None
if isinstance(period, (tuple, list)) and len(period) == 2:
    since = datetime.combine(period[0], time(0), tzinfo=local_zone())
    until = datetime.combine(period[1], time(0), tzinfo=local_zone()) + timedelta(days=1)
with db() as session:
    rows = search(session, who, action, key, since, until)
if not rows:
    st.info(tr("audit.none"))
else:
    frame = pd.DataFrame([{**r, "at": fmt_local(r["at"], seconds=True)} for r in rows])
    st.dataframe(frame, hide_index=True, width="stretch")
