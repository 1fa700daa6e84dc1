"""Admin: search the audit trail (who changed what, when, before and after)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from domain import clock
from domain.i18n import t

from db.audit import search
from db.users import display_names
from domain.config import local_zone
from ui.auth import guard
from ui.common import date_bounds, db, lang, tr
from services.views import audit_actions, audit_frame

guard("audit")
L = lang()
st.title(tr("page.audit"))
with st.form("audit_form"):
    c1, c2, c3, c4 = st.columns(4)
    who = c1.text_input(tr("audit.actor"), key="audit_actor")
    action = c2.selectbox(tr("audit.action"), ["", *audit_actions(L)], key="audit_action",
                          format_func=lambda code: t(f"audit.act.{code}", L) if code else "")
    key = c3.text_input(tr("audit.key"), key="audit_key")
    today = clock.today()
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
    with db() as session:
        names = display_names(session)
    st.dataframe(audit_frame(rows, names, L), hide_index=True, width="stretch")
