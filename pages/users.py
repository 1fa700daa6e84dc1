"""Admin: accounts and roles."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.users import create_user, list_users, set_active
from domain.roles import ROLES, role_label
from ui.auth import actor, allowed, guard
from ui.common import db, flash, lang, md, tr

guard("users")
L = lang()
st.title(tr("page.users"))

with db() as session:
    users = list_users(session)
st.dataframe(pd.DataFrame(users), hide_index=True, width="stretch")

with st.form("users_create"):
    st.markdown(f"#### {tr('users.create')}")
    c1, c2, c3, c4 = st.columns(4)
    username = c1.text_input(tr("auth.username"), key="users_username")
    name = c2.text_input(tr("users.display"), key="users_display")
    role = c3.selectbox(tr("users.role"), list(ROLES), key="users_role", format_func=lambda r: role_label(r, L))
    password = c4.text_input(tr("auth.password"), type="password", key="users_password")
    handler = st.text_input(tr("users.handler"), key="users_handler", help=tr("users.handler_help"))
    submitted = st.form_submit_button(tr("users.create"))
if submitted:
    if not allowed("manage_users"):
        st.error(tr("auth.forbidden"))
    else:
        try:
            with db() as session:
                create_user(session, username, name, role, password, actor=actor(),
                            handler=handler if role == "handler" else None)
        except ValueError as exc:
            st.error(md(str(exc)))
        else:
            flash(tr("users.created", name=md(username)))
            st.rerun()

for u in users:
    if u["username"] == actor():
        continue
    label = tr("users.disable") if u["active"] else tr("users.enable")
    if st.button(f"{label} {u['username']}", key=f"users_toggle_{u['username']}"):
        if allowed("manage_users"):
            with db() as session:
                set_active(session, u["username"], not u["active"], actor())
            flash(tr("users.toggled", name=md(u["username"])))
            st.rerun()
