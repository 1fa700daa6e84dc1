"""Sidebar state and guards shared by every page. Keys in st.session_state are prefixed `app_`."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, time, timezone
from typing import Iterator

import streamlit as st
from sqlalchemy.orm import Session

from db.locks import Busy
from db.session import DatabaseUnavailable, session_scope
from domain import clock
from domain.config import local_zone
from domain.i18n import t, told
from domain.timeutil import EARLIEST_DATE, clamp_date, fmt_local, latest_date
from domain.privacy import escape_markdown as md  # noqa: F401 - pages import it from here


def lang() -> str:
    return st.session_state.get("app_lang", "zh")


def tr(key: str, /, **values: object) -> str:
    return t(key, lang(), **values)


def words(prefix: str):
    """A `format_func` naming codes by the catalogue's `prefix.code`, in the language of this run (bound
    now: a widget may call it again after the run, when the session's language is out of reach)."""
    language = lang()
    return lambda code: t(f"{prefix}.{code}", language)


def refusal(exc: BaseException) -> str:
    """Why an action was refused, in the user's language (refusals carry catalogue messages; anything
    else is shown as it is)."""
    first = exc.args[0] if exc.args else ""
    return told(first, lang()) if isinstance(first, str) and first else str(exc)


def as_of() -> datetime:
    """The sidebar's "as of" instant: the current time in live mode, else the chosen local time."""
    if st.session_state.get("app_live", True):
        return clock.now()
    today = clock.today()
    day = clamp_date(st.session_state.get("app_as_of_date") or today, today)
    at_time = st.session_state.get("app_as_of_time") or time(9, 0)
    return datetime.combine(day, at_time, tzinfo=local_zone()).astimezone(timezone.utc)


def server_now() -> datetime:
    """The server's clock, whatever the sidebar replays: the time of every write and of every decision about
    what a user may see or do (a blind session's deadline, an appeal window). `as_of()` only chooses which
    past a page shows."""
    return clock.now()


def replaying() -> bool:
    """Is the sidebar set to a past instant instead of live?"""
    return not st.session_state.get("app_live", True)


def replay_banner() -> None:
    if replaying():
        st.info(tr("side.replay", when=fmt_local(as_of())), icon=":material/history:")


def date_bounds() -> dict:
    """min/max for every date picker: a year such as 0001 or 9999 is refused by the widget itself."""
    today = clock.today()
    return {"min_value": EARLIEST_DATE, "max_value": latest_date(today)}


def teams() -> list[str]:
    return list(st.session_state.get("app_teams", []))


@contextmanager
def db_errors() -> Iterator[None]:
    """Turn an unreachable or busy database into a message on the page."""
    try:
        yield
    except DatabaseUnavailable as exc:
        st.error(tr("db.down", error=str(exc)))
        st.stop()
    except Busy as exc:
        st.warning(md(refusal(exc)))
        st.stop()


@contextmanager
def db() -> Iterator[Session]:
    """A database session; an unreachable or busy database becomes a clear message, not a traceback."""
    with db_errors(), session_scope() as session:
        yield session



FLASH = "app_flash"


def flash(message: str) -> None:
    """Say what a write did; shown on the next run (a write is usually followed by st.rerun())."""
    st.session_state.setdefault(FLASH, []).append(message)


def show_flash() -> None:
    """Called by the frame on every run: each pending message once, as a toast and on the page."""
    for message in st.session_state.pop(FLASH, []):
        st.toast(message, icon=":material/check_circle:")
        st.success(message)


def confirmed(label: str, key: str, question: str, where=None, **button_args) -> bool:
    """A button for a bulk action that asks first: the first click shows the question with 确认/取消, and
    only 确认 returns True."""
    pending = f"{key}_confirm"
    if st.session_state.get(pending):
        st.warning(question)
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button(tr("common.confirm"), key=f"{key}_yes", type="primary"):
            st.session_state.pop(pending, None)
            return True
        if no.button(tr("common.cancel"), key=f"{key}_no"):
            st.session_state.pop(pending, None)
            st.rerun()
        return False
    if (where or st).button(label, key=key, **button_args):
        st.session_state[pending] = True
        st.rerun()
    return False
