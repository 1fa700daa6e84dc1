"""投诉督办台 — the frame: page config, first-start set-up, login, sidebar, navigation. No queries here."""
from __future__ import annotations

from datetime import datetime, time

import streamlit as st

from db.session import DatabaseUnavailable
from domain import clock
from domain.roles import may_open, role_label
from services.bootstrap import demo_accounts_enabled, ensure_database
from domain.config import database_url, local_zone
from domain.i18n import t
from domain.timeutil import fmt_local, utc_offset
from ui.auth import (apply_language_preference, checked_user, hand_cookie_to_browser, login_page, logout,
                     restore_session, save_language)
from ui.common import as_of, date_bounds, db, lang, tr
from ui.layout import responsive
from ui.menu import LANDING, PAGES, URLS

st.set_page_config(page_title="投诉督办台", page_icon=":material/support_agent:", layout="wide")
responsive(st.session_state.get("app_lang", "zh"))  # columns wrap, narrow windows close the sidebar (ui/layout.py)


@st.cache_resource(show_spinner=False)
def _ready(url: str) -> bool:
    return ensure_database(url)


@st.cache_data(ttl=60, show_spinner=False)
def _is_demo(url: str) -> bool:
    return demo_accounts_enabled(url)


try:
    with st.spinner(t("db.first_start", st.session_state.get("app_lang", "zh"))):
        _ready(database_url())
    demo = _is_demo(database_url())
except DatabaseUnavailable as exc:
    st.error(t("db.down", st.session_state.get("app_lang", "zh"), error=str(exc)))
    st.stop()

if demo:  # a demo database says so on every page, so nobody mistakes it for real complaints
    st.warning(t("app.demo_banner", st.session_state.get("app_lang", "zh")), icon=":material/science:")

restore_session()  # a reload, a new tab or a shared link keeps the sign-in (cookie)
apply_language_preference()
with st.sidebar:
    st.radio(t("side.lang", lang()), ["zh", "en"], key="app_lang", horizontal=True, on_change=save_language,
             format_func=lambda v: "中文" if v == "zh" else "English")



def _page(key: str, path: str, title: str, icon: str, default: bool = False) -> st.Page:
    return st.Page(path, title=tr(title), icon=icon, url_path=URLS.get(key, key), default=default)


user = checked_user()
hand_cookie_to_browser()
if user is None:
    # Every page is declared (hidden) so that the address asked for — a bookmark, a shared case link —
    # is known to the router and kept while the user signs in; none of them runs until then.
    st.navigation([st.Page(login_page, title=tr("auth.login"), icon=":material/login:", url_path="login",
                           default=True)] + [_page(key, path, title, icon) for _s, key, path, title, icon in PAGES],
                  position="hidden")
    login_page()
    st.stop()

with st.sidebar:
    st.caption(tr("auth.signed_in", name=user["display_name"], role=role_label(user["role"], lang())))
    if st.button(tr("auth.logout"), key="app_logout"):
        logout()
        st.rerun()
    st.toggle(tr("side.live"), value=True, key="app_live")
    if not st.session_state.get("app_live", True):
        now_local = clock.local_now()
        st.date_input(tr("side.as_of_date"), value=now_local.date(), **date_bounds(), key="app_as_of_date")
        st.time_input(tr("side.as_of_time"), value=time(now_local.hour, 0), key="app_as_of_time", step=900)
    from db.queries import team_names

    with db() as session:
        options = team_names(session)
    st.multiselect(tr("side.teams"), options, placeholder=tr("common.choose"), key="app_teams")
    st.caption(tr("side.now_is", when=fmt_local(as_of())) + " · " + tr("side.zone", zone=utc_offset(as_of())))

sections: dict[str, list] = {}
mine = [p for p in PAGES if may_open(user["role"], p[1])]
landing = LANDING.get(user["role"]) if any(p[1] == LANDING.get(user["role"]) for p in mine) else mine[0][1]
for section, key, path, title, icon in mine:
    sections.setdefault(tr(section), []).append(_page(key, path, title, icon, default=key == landing))
st.navigation(sections, expanded=True).run()  # every page listed (no "View more")
