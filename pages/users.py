"""Admin: accounts — create, reset a password (changed at the next sign-in), change a role, deactivate and
reactivate with a reason. Every change is audited and ends the account's open sessions."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from db.users import change_role, create_user, list_users, reset_password, set_active
from domain.roles import ROLES, role_label
from ui.auth import actor, allowed, guard, role
from ui.common import db, flash, lang, md, refusal, tr

guard("users")
L = lang()
st.title(tr("page.users"))

with db() as session:
    users = list_users(session)
st.dataframe(pd.DataFrame([{
    tr("users.col.username"): u["username"], tr("users.display"): u["display_name"],
    tr("users.role"): role_label(u["role"], L), tr("users.col.handler"): u["handler"] or "",
    tr("users.col.active"): tr("users.active") if u["active"] else tr("users.inactive"),
    tr("users.col.must_change"): "✓" if u["must_change_password"] else "",
} for u in users]), hide_index=True, width="stretch")

with st.form("users_create"):
    st.markdown(f"#### {tr('users.create')}")
    c1, c2, c3, c4 = st.columns(4)
    username = c1.text_input(tr("auth.username"), key="users_username")
    name = c2.text_input(tr("users.display"), key="users_display")
    new_role = c3.selectbox(tr("users.role"), list(ROLES), key="users_role", format_func=lambda r: role_label(r, L))
    password = c4.text_input(tr("auth.password"), type="password", key="users_password")
    handler = st.text_input(tr("users.handler"), key="users_handler", help=tr("users.handler_help"))
    submitted = st.form_submit_button(tr("users.create"))
if submitted:
    if not allowed("manage_users"):
        st.error(tr("auth.forbidden"))
    else:
        try:
            with db() as session:
                create_user(session, username, name, new_role, password, actor=actor(),
                            handler=handler if new_role == "handler" else None)
        except ValueError as exc:
            st.error(md(refusal(exc)))
        else:
            flash(tr("users.created", name=md(username)))
            st.rerun()


def attempt(write, message: str) -> None:
    """Run one account change; say what it did, or why not."""
    try:
        with db() as session:
            write(session)
    except (ValueError, PermissionError) as exc:
        st.error(tr("users.refused", error=md(refusal(exc))))
    else:
        flash(message)
        st.rerun()


for u in users:
    if u["username"] == actor() or not allowed("manage_users"):
        continue
    who = u["username"]
    with st.expander(tr("users.manage", name=f"{u['display_name']}（{who}）")):
        c1, c2, c3 = st.columns(3)
        with c1.form(f"users_reset_{who}"):
            temporary = st.text_input(tr("users.temporary"), type="password", key=f"users_tmp_{who}")
            if st.form_submit_button(tr("users.reset")):
                attempt(lambda s: reset_password(s, who, temporary, actor(), role()),
                        tr("users.reset_done", name=md(who)))
        with c2.form(f"users_role_{who}"):
            target = st.selectbox(tr("users.role"), list(ROLES), index=list(ROLES).index(u["role"]),
                                  key=f"users_newrole_{who}", format_func=lambda r: role_label(r, L))
            linked = st.text_input(tr("users.handler"), value=u["handler"] or "", key=f"users_hd_{who}")
            if st.form_submit_button(tr("users.change_role")):
                attempt(lambda s: change_role(s, who, target, actor(), role(), linked),
                        tr("users.role_done", name=md(who), role=role_label(target, L)))
        with c3.form(f"users_active_{who}"):
            reason = st.text_input(tr("users.reason"), key=f"users_reason_{who}", max_chars=200)
            label = tr("users.disable") if u["active"] else tr("users.enable")
            if st.form_submit_button(label):
                if not reason.strip():
                    st.error(tr("users.need_reason"))
                else:
                    attempt(lambda s: set_active(s, who, not u["active"], actor(), reason, role()),
                            tr("users.toggled", name=md(who)))
