"""投诉督办台 — the frame: page config, first-start set-up, sidebar, navigation. No queries here."""
from __future__ import annotations

from datetime import datetime, time

import streamlit as st

from db.session import DatabaseUnavailable
from services.bootstrap import ensure_database
from services.config import database_url, local_zone
from services.i18n import t
from services.timeutil import fmt_local
from ui.common import as_of, db, lang, tr

st.set_page_config(page_title="投诉督办台", page_icon=":material/support_agent:", layout="wide")


@st.cache_resource(show_spinner=False)
def _ready(url: str) -> bool:
    return ensure_database(url)


try:
    with st.spinner(t("db.first_start", st.session_state.get("app_lang", "zh"))):
        _ready(database_url())
except DatabaseUnavailable as exc:
    st.error(t("db.down", st.session_state.get("app_lang", "zh"), error=str(exc)))
    st.stop()

with st.sidebar:
    st.radio(t("side.lang", lang()), ["zh", "en"], key="app_lang", horizontal=True,
             format_func=lambda v: "中文" if v == "zh" else "English")
    st.toggle(tr("side.live"), value=True, key="app_live")
    if not st.session_state.get("app_live", True):
        now_local = datetime.now(local_zone())
        st.date_input(tr("side.as_of_date"), value=now_local.date(), key="app_as_of_date")
        st.time_input(tr("side.as_of_time"), value=time(now_local.hour, 0), key="app_as_of_time", step=900)
    from db.queries import team_names

    with db() as session:
        options = team_names(session)
    st.multiselect(tr("side.teams"), options, key="app_teams")
    st.caption(tr("side.now_is", when=fmt_local(as_of())) + " · " + tr("side.zone", zone=str(local_zone())))

pages = {
    tr("nav.team_lead"): [
        st.Page("pages/board.py", title=tr("page.board"), icon=":material/monitoring:", url_path="board", default=True),
    ],
    tr("nav.supervision"): [
        st.Page("pages/search.py", title=tr("page.search"), icon=":material/search:", url_path="search"),
        st.Page("pages/case_detail.py", title=tr("page.detail"), icon=":material/description:", url_path="case"),
    ],
    tr("nav.rules"): [
        st.Page("pages/rules.py", title=tr("page.rules"), icon=":material/rule:", url_path="rules"),
    ],
    tr("nav.data"): [
        st.Page("pages/import_data.py", title=tr("page.import"), icon=":material/upload_file:", url_path="import"),
    ],
}
st.navigation(pages).run()
