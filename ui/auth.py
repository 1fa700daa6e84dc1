"""Login, session expiry and the page guard. The role lives in the server-side session state; every page
calls `guard(page)` first, so hiding a menu entry is never the only protection."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import streamlit as st

from db import websessions
from db.session import DatabaseUnavailable, session_scope
from db.users import (DEMO_ACCOUNTS, DEMO_PASSWORD, LoginRefused, MustChangePassword, account_for_identity,
                      account_state, authenticate, change_own_password)
from domain import clock
from domain.roles import may, may_open, role_label
from domain.config import session_secret
from domain.i18n import t
from domain.privacy import escape_markdown
from ui.common import refusal, replay_banner, show_flash

KEY = "auth_user"


def _idle_limit() -> timedelta:
    return timedelta(minutes=float(os.environ.get("COMPLAINTS_SESSION_MINUTES", "480")))


def _end(reason: str) -> None:
    user = st.session_state.pop(KEY, None)
    st.session_state["auth_expired"] = reason
    if user and user.get("sid"):
        st.session_state[COOKIE_PENDING] = ""
        try:
            with session_scope() as session:
                websessions.close(session, user["sid"])
        except DatabaseUnavailable:
            pass


def current_user(touch: bool = True) -> dict | None:
    """The signed-in user, or None once the session has been idle too long.

    `touch=False` is for automatic reruns (the board's auto-refresh): they read the session without
    counting as activity, so an unattended screen still signs out after the idle limit."""
    user = st.session_state.get(KEY)
    if not user:
        return None
    now = clock.now_precise()
    last = user.get("last_seen") or now
    if now - last > _idle_limit():
        _end("idle")
        return None
    if touch:
        user["last_seen"] = now
    return user


def _still_valid(user: dict) -> bool:
    """Re-read the account (one primary-key lookup): a disabled account, a changed role or password ends
    the session at once, not at its next sign-in."""
    try:
        with session_scope() as session:
            state = account_state(session, user["username"])
            open_ = not user.get("sid") or websessions.still_open(session, user["sid"], clock.now_precise(),
                                                                   _idle_limit())
    except DatabaseUnavailable:
        return True  # the page itself will say the database is down; the session is not the problem
    if state is None or state != (user["role"], user.get("epoch", 0)):
        _end("changed")
        return False
    if not open_:  # signed out in another tab, or idle too long
        _end("idle")
        st.session_state[COOKIE_PENDING] = ""
        return False
    return True


def checked_user(touch: bool = True) -> dict | None:
    """current_user() plus the account re-check: used by the frame, every page guard and every write."""
    user = current_user(touch)
    if user is None or not _still_valid(user):
        return None
    return user


def live_check() -> None:
    """For a live fragment's automatic rerun: sign out (rerunning the whole app to the login page) when
    the session has expired or the account changed; never extends the session."""
    if checked_user(touch=False) is None:
        st.rerun(scope="app")


def role() -> str | None:
    user = current_user()
    return user["role"] if user else None


def my_handler_id() -> int | None:
    """For the handler role: the handler of the imported cases this account is."""
    user = current_user()
    return user.get("handler_id") if user else None


def actor() -> str:
    user = current_user()
    return user["username"] if user else "anonymous"


def allowed(action: str) -> bool:
    """May the signed-in user do this write now? Re-checks the account in the database every time."""
    user = checked_user()
    return user is not None and may(user["role"], action)


def guard(page: str) -> None:
    """Stop the page unless the signed-in role may open it (account re-checked on every page run)."""
    user = checked_user()
    lang = st.session_state.get("app_lang", "zh")
    if user is None or not may_open(user["role"], page):
        st.error(t("auth.forbidden", lang))
        st.stop()
    replay_banner()  # a past instant is never mistaken for now
    show_flash()  # what the last write did, said once at the top of the page


def logout() -> None:
    user = st.session_state.pop(KEY, None)
    if user and user.get("sid"):
        try:
            with session_scope() as session:
                websessions.close(session, user["sid"])
        except DatabaseUnavailable:
            pass
    st.session_state[COOKIE_PENDING] = ""  # clear the browser's cookie on the next run
    if sso_configured() and st.user.get("is_logged_in"):
        st.logout()


# ---------------------------------------------------------------- sign-ins that survive a reload

COOKIE_PENDING = "auth_cookie_pending"  # a cookie value to hand to the browser on the next run ("" clears)
LANG_PENDING = "app_lang_pending"  # the user's language, applied before the language widget is drawn


def _secret() -> bytes:
    try:
        configured = st.secrets.get("session_secret")
    except Exception:  # no secrets file
        configured = None
    return session_secret(configured)


def restore_session() -> None:
    """A new browser session (reload, new tab, shared link) carrying a good sign-in cookie is signed in
    again, with the user's language; called by the frame before anything is drawn."""
    if st.session_state.get(KEY):
        return
    cookie = st.context.cookies.get(websessions.COOKIE)
    if not cookie:
        return
    now = clock.now_precise()
    try:
        with session_scope() as session:
            user = websessions.resume(session, cookie, now, _idle_limit(), _secret())
            state = None if user is None else (user.username, user.display_name, user.role, user.session_epoch,
                                               user.lang, user.handler_id)
    except DatabaseUnavailable:
        return
    if state is None:
        st.session_state[COOKIE_PENDING] = ""
        return
    username, display, role_, epoch, lang, handler_id = state
    st.session_state[KEY] = {"username": username, "display_name": display, "role": role_, "epoch": epoch,
                             "handler_id": handler_id, "since": now, "last_seen": now,
                             "sid": websessions.token_hash(cookie, _secret())}
    st.session_state[LANG_PENDING] = lang


def apply_language_preference() -> None:
    pending = st.session_state.pop(LANG_PENDING, None)
    if pending in ("zh", "en"):
        st.session_state["app_lang"] = pending


def save_language() -> None:
    """on_change of the language switch: remembered for the signed-in user."""
    user = st.session_state.get(KEY)
    if user:
        try:
            with session_scope() as session:
                websessions.set_lang(session, user["username"], st.session_state.get("app_lang", "zh"))
        except DatabaseUnavailable:
            pass


def hand_cookie_to_browser() -> None:
    """Set or clear the sign-in cookie in the browser (Streamlit cannot set cookies from the server: a
    zero-height component sets it on the page's own document, same origin)."""
    if COOKIE_PENDING not in st.session_state:
        return
    value = st.session_state.pop(COOKIE_PENDING)
    import streamlit.components.v1 as components

    age = int(websessions.LIFETIME.total_seconds()) if value else 0
    components.html(f"<script>window.parent.document.cookie = '{websessions.COOKIE}={value}; path=/; "
                    f"max-age={age}; SameSite=Strict';</script>", height=0)


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
        st.error(escape_markdown(refusal(exc)))
        return
    _sign_in(account)


def _sign_in(account) -> None:
    now = clock.now_precise()
    secret = _secret()
    with session_scope() as session:
        cookie = websessions.open_session(session, account.username, account.session_epoch, now, secret)
    st.session_state[KEY] = {"username": account.username, "display_name": account.display_name,
                             "role": account.role, "epoch": account.session_epoch, "since": now, "last_seen": now,
                             "handler_id": account.handler_id, "sid": websessions.token_hash(cookie, secret)}
    st.session_state[COOKIE_PENDING] = cookie
    st.session_state[LANG_PENDING] = account.lang
    st.rerun()


def _change_password_form(username: str, lang: str) -> None:
    """After an admin reset the password: the user proves the temporary one and chooses a new one."""
    st.info(t("auth.must_change", lang))
    with st.form("change_password_form"):
        current = st.text_input(t("auth.current_password", lang), type="password", key="chg_current")
        new = st.text_input(t("auth.new_password", lang), type="password", key="chg_new")
        confirm = st.text_input(t("auth.confirm_password", lang), type="password", key="chg_confirm")
        done = st.form_submit_button(t("auth.set_password", lang), type="primary")
    if done:
        try:
            with session_scope() as session:
                account = change_own_password(session, username, current, new, confirm)
        except (LoginRefused, ValueError) as exc:
            st.error(escape_markdown(refusal(exc)))
        else:
            st.session_state.pop("auth_must_change", None)
            _sign_in(account)


def login_page() -> None:
    lang = st.session_state.get("app_lang", "zh")
    st.title(t("app.title", lang))
    st.caption(t("app.subtitle", lang))
    ended = st.session_state.pop("auth_expired", None)
    if ended:
        st.info(t("auth.changed" if ended == "changed" else "auth.expired", lang))
    if sso_configured():
        if st.user.get("is_logged_in"):
            _sso_session(lang)
        elif st.button(t("auth.sso", lang), key="login_sso"):
            st.login()
    pending = st.session_state.get("auth_must_change")
    if pending:
        _change_password_form(pending, lang)
        return
    with st.form("login_form"):
        username = st.text_input(t("auth.username", lang), key="login_username")
        password = st.text_input(t("auth.password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth.login", lang), type="primary")
    if submitted:
        try:
            account = authenticate(username, password, address=st.context.ip_address)
        except MustChangePassword:
            st.session_state["auth_must_change"] = username.strip()
            st.rerun()
        except LoginRefused as exc:
            st.error(escape_markdown(refusal(exc)))
        except DatabaseUnavailable as exc:
            st.error(t("db.down", lang, error=str(exc)))
        else:
            _sign_in(account)
    from services.bootstrap import demo_accounts_enabled

    try:
        demo = demo_accounts_enabled()
    except DatabaseUnavailable:
        demo = False
    if demo:
        names = "、".join(f"{u}（{role_label(r, lang)}）" for u, _n, r in DEMO_ACCOUNTS)
        st.warning(t("auth.demo", lang, names=names, password=DEMO_PASSWORD))
