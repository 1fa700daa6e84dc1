"""Login, session expiry and the page guard. The role lives in the server-side session state; every page
calls `guard(page)` first, so hiding a menu entry is never the only protection."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import streamlit as st

from db.session import DatabaseUnavailable
from db.users import DEMO_ACCOUNTS, DEMO_PASSWORD, LoginRefused, account_for_identity, authenticate
from domain.roles import may, may_open, role_label
from domain.i18n import t

KEY = "auth_user"


def _idle_limit() -> timedelta:
    return timedelta(minutes=int(os.environ.get("COMPLAINTS_SESSION_MINUTES", "480")))


def current_user() -> dict | None:
    user = st.session_state.get(KEY)
    if not user:
        return None
    now = datetime.now(timezone.utc)
    last = user.get("last_seen") or now
    if now - last > _idle_limit():
        st.session_state.pop(KEY, None)
        st.session_state["auth_expired"] = True
        return None
    user["last_seen"] = now
    return user


def role() -> str | None:
    user = current_user()
    return user["role"] if user else None


def actor() -> str:
    user = current_user()
    return user["username"] if user else "anonymous"


def allowed(action: str) -> bool:
    r = role()
    return r is not None and may(r, action)


def guard(page: str) -> None:
    """Stop the page unless the signed-in role may open it."""
    r = role()
    lang = st.session_state.get("app_lang", "zh")
    if r is None or not may_open(r, page):
        st.error(t("auth.forbidden", lang))
        st.stop()


def logout() -> None:
    st.session_state.pop(KEY, None)
    if sso_configured() and st.user.get("is_logged_in"):
        st.logout()


def sso_configured() -> bool:
    """OIDC sign-in is offered only when `[auth]` is configured in .streamlit/secrets.toml."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso_session(lang: str) -> None:
    """After st.login() returned from the provider: map the identity to an account of ours."""
    try:
        account = account_for_identity(st.user.get("email"))
    except LoginRefused as exc:
        st.error(str(exc))
        return
    now = datetime.now(timezone.utc)
    st.session_state[KEY] = {"username": account.username, "display_name": account.display_name,
                             "role": account.role, "since": now, "last_seen": now}
    st.rerun()


def login_page() -> None:
    lang = st.session_state.get("app_lang", "zh")
    st.title(t("app.title", lang))
    st.caption(t("app.subtitle", lang))
    if st.session_state.pop("auth_expired", False):
        st.info(t("auth.expired", lang))
    if sso_configured():
        if st.user.get("is_logged_in"):
            _sso_session(lang)
        elif st.button(t("auth.sso", lang), key="login_sso"):
            st.login()
    with st.form("login_form"):
        username = st.text_input(t("auth.username", lang), key="login_username")
        password = st.text_input(t("auth.password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth.login", lang), type="primary")
    if submitted:
        try:
            account = authenticate(username, password)
        except LoginRefused as exc:
            st.error(str(exc))
        except DatabaseUnavailable as exc:
            st.error(t("db.down", lang, error=str(exc)))
        else:
            now = datetime.now(timezone.utc)
            st.session_state[KEY] = {"username": account.username, "display_name": account.display_name,
                                     "role": account.role, "since": now, "last_seen": now}
            st.rerun()
    from services.bootstrap import demo_accounts_enabled

    try:
        demo = demo_accounts_enabled()
    except DatabaseUnavailable:
        demo = False
    if demo:
        names = "、".join(f"{u}（{role_label(r, lang)}）" for u, _n, r in DEMO_ACCOUNTS)
        st.warning(t("auth.demo", lang, names=names, password=DEMO_PASSWORD))
