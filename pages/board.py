"""Team leads' live SLA board: what needs action now, who is falling behind, and how the period went."""
from __future__ import annotations

import os
from urllib.parse import quote
from datetime import datetime, time, timedelta

import altair as alt
import streamlit as st
from streamlit.errors import StreamlitAPIException

from db import board as q
from db import alerts as alert_store
from db import notices, reviews
from db.obligations import thresholds
from domain import clock
from services import board as view
from services.views import rule_title
from domain.config import local_zone
from domain.timeutil import fmt_local, to_local
from domain.vocab import ENUMS, label
from ui.common import as_of, date_bounds, db, lang, replaying, teams, tr, words
from ui import charts, layout
from ui.auth import current_user, guard, live_check

guard("board")

L = lang()
WALL = st.query_params.get("screen") == "wall"  # 大屏: a wall display, readable from across the room
if WALL:
    layout.wall()
st.title(tr("page.board"))

with db() as session:
    handler_options = q.handler_names(session)

with (st.container(height=1, border=False) if WALL else st.expander(tr("search.submit") + " · " + tr("board.period"),
                                                                     expanded=False)):
    c1, c2, c3, c4 = st.columns(4)
    handlers = c1.multiselect(tr("board.handlers"), handler_options, placeholder=tr("common.choose"), key="board_handlers")
    categories = c2.multiselect(tr("search.category"), list(ENUMS["category"]), placeholder=tr("common.choose"), key="board_categories",
                                format_func=lambda v: label("category", v, L))
    channels = c3.multiselect(tr("board.channels"), list(ENUMS["channel"]), placeholder=tr("common.choose"), key="board_channels",
                              format_func=lambda v: label("channel", v, L))
    rules = c4.multiselect(tr("board.rules"), list(q.DEADLINE_RULES), default=list(q.BOARD_RULES),
                           placeholder=tr("common.choose"), key="board_rules", format_func=lambda r: rule_title(r, L))
    c5, c6, c7, c8, c9 = st.columns(5)
    today = clock.today()
    period = c5.date_input(tr("board.period"), value=(today - timedelta(days=6), today), **date_bounds(), key="board_period")
    refresh = c6.number_input(tr("board.refresh"), min_value=2, max_value=600, step=1, key="board_refresh",
                              value=int(os.environ.get("COMPLAINTS_BOARD_REFRESH", "30")))
    appeal_days = c7.number_input(tr("board.appeal_days"), min_value=1, max_value=90, value=15, key="board_appeal_days")
    appeal_warn = c8.number_input(tr("board.appeal_warn"), min_value=0, max_value=30, value=3, key="board_appeal_warn")
    appeal_unit = c9.selectbox(tr("board.appeal_unit"), ["calendar", "working"], key="board_appeal_unit",
                               format_func=words("board.unit"))

wall_teams = tuple(st.query_params.get_all("team")) if WALL else ()  # a wall screen per team: ?screen=wall&team=…
filters = q.BoardFilters(teams=wall_teams or tuple(teams()), handlers=tuple(handlers), categories=tuple(categories),
                         channels=tuple(channels), rules=tuple(rules) or q.BOARD_RULES)
if isinstance(period, (tuple, list)) and len(period) == 2:
    start = datetime.combine(period[0], time(0), tzinfo=local_zone())
    end = datetime.combine(period[1], time(0), tzinfo=local_zone()) + timedelta(days=1)
else:
    start = datetime.combine(today - timedelta(days=6), time(0), tzinfo=local_zone())
    end = datetime.combine(today, time(0), tzinfo=local_zone()) + timedelta(days=1)


@st.cache_data(ttl=5, show_spinner=False)
def board_now(f: q.BoardFilters, now: datetime, replay: bool):
    """What needs action now (tiles and the act-now queue), cached for a few seconds (shorter than any
    refresh interval). Queried and drawn first, so the part a team lead looks at first appears first.
    A past instant is replayed from the deadline episodes: what was owed then, not what is still owed now."""
    day_start = view.day_start_local(to_local(now))
    with db() as session:
        if replay:
            warn = timedelta(hours=thresholds(session).warn_hours)
            return {"tiles": q.replay_tiles(session, now, f, day_start, warn),
                    "queue": q.replay_act_now(session, now, f, warn)}
        return {"tiles": q.tiles(session, now, f, day_start), "queue": q.act_now(session, now, f)}


@st.cache_data(ttl=5, show_spinner=False)
def board_period(f: q.BoardFilters, now: datetime, start: datetime, end: datetime, cutoff: datetime, offset: float,
                 replay: bool):
    """The rest of the board: who is behind, how the period went, appeal risk."""
    with db() as session:
        if replay:
            handlers = q.replay_by_handler(session, now, f, timedelta(hours=thresholds(session).warn_hours))
        else:
            handlers = q.by_handler(session, now, f)
        return {
            "handlers": handlers,
            "compliance": q.compliance(session, now, f, start, end),
            "breaches": q.breaches_in_period(session, now, f, start, end, offset),
            "appeal": q.appeal_risk(session, now, f, cutoff),
        }


def open_picked(picked, frame) -> None:
    """One click on a row opens that case, in this tab and this signed-in session."""
    rows = picked.selection.rows if picked is not None else []
    if rows:
        st.switch_page("pages/case_detail.py", query_params={"case": frame.iloc[rows[0]][tr("board.case")]})


def wall_board(data: dict, now: datetime) -> None:
    """The 大屏 view: the six tiles and the act-now queue in large type, nothing to click."""
    tiles = data["tiles"]
    cols = st.columns(6)
    for col, key in zip(cols, ("open_cases", "at_risk", "overdue_open", "breached_today", "breached_7d", "to_archive")):
        col.metric(tr(f"board.{key}"), f"{tiles[key]:,}")
    st.markdown(f"#### {tr('board.queue')}")
    queue = view.queue_frame(data["queue"], now, L)
    if queue.empty:
        st.success(tr("board.queue_empty"))
    else:
        st.table(view.wall_queue(queue, L, WALL_ROWS))


WALL_ROWS = 12


@st.fragment(run_every=timedelta(seconds=int(refresh)))
def live_board() -> None:
    live_check()  # an automatic refresh is not activity: an unattended board still signs out
    now = as_of()
    now_local = to_local(now)
    cutoff = view.appeal_cutoff(now_local, int(appeal_days), int(appeal_warn), appeal_unit)
    offset = now_local.utcoffset().total_seconds() / 3600
    data = board_now(filters, now, replaying())
    st.caption(tr("board.refreshed", when=fmt_local(now, seconds=True)))
    if WALL:
        wall_board(data, now)
        return

    with db() as session:
        waiting = reviews.waiting_count(session, now, filters.teams)
        turned = len(reviews.overturned(session, now - timedelta(days=30), now, filters.teams))
        late_notices = notices.overdue_by_handler(session, now, filters.teams)
        alert_status = alert_store.status_line(session, now)
    tiles = data["tiles"]
    cols = st.columns(7)
    for col, key in zip(cols, ("open_cases", "at_risk", "overdue_open", "breached_today", "breached_7d", "to_archive")):
        col.metric(tr(f"board.{key}"), f"{tiles[key]:,}", help=tr("board.to_archive_help") if key == "to_archive" else None)
    cols[6].metric(tr("board.notices_late"), f"{sum(late_notices.values()):,}", help=tr("board.notices_late_help"))

    beat = alert_status["heartbeat"]
    st.caption(tr("al.status", beat=tr("al.beat", when=fmt_local(beat["at"])) if beat else tr("al.no_beat"),
                  sent=alert_status["sent_hour"], failed=alert_status["failed_day"], pending=alert_status["pending"]))
    try:
        st.page_link("pages/reviews.py", label=tr("board.reviews", n=waiting, m=turned), icon=":material/gavel:")
    except StreamlitAPIException:  # the page file run on its own has no navigation to link into
        st.caption(tr("board.reviews", n=waiting, m=turned))

    st.markdown(f"#### {tr('board.queue')}")
    queue = view.queue_frame(data["queue"], now, L)
    if queue.empty:
        st.success(tr("board.queue_empty"))
    else:
        st.caption(tr("board.queue_help"))
        styled = queue.style.apply(
            lambda row: ["color: #b42318; font-weight: 600" if row["overdue"] else "" for _ in row], axis=1)
        picked = st.dataframe(styled, hide_index=True, width="stretch", key="board_queue",
                              on_select="rerun", selection_mode="single-row",
                              column_order=[c for c in queue.columns if c not in ("overdue", tr("board.case"))],
                              column_config={"link": st.column_config.LinkColumn(tr("board.case"), display_text=r"case=(.*)$",
                                                                                 pinned=True)})
        open_picked(picked, queue)
    wall_link = "?screen=wall" + "".join(f"&team={quote(t)}" for t in filters.teams)
    st.markdown(f"[{tr('board.wall_open')}]({wall_link})")
    exports = st.container(horizontal=True)  # the export buttons sit under the queue they export (filled in below)

    data = board_period(filters, now, start, end, cutoff, offset, replaying())
    left, right = st.columns(2)
    handler_rows = data["handlers"]
    with left:
        st.markdown(f"#### {tr('board.by_team')}")
        st.dataframe(view.team_frame(handler_rows, L), hide_index=True, width="stretch")
    with right:
        st.markdown(f"#### {tr('board.by_handler')}")
        st.dataframe(view.handler_frame(handler_rows, L, late_notices), hide_index=True, width="stretch", height=260)

    st.markdown(f"#### {tr('board.compliance')}")
    st.dataframe(view.compliance_frame(data["compliance"], L), hide_index=True, width="stretch")

    breaches = data["breaches"]
    if not breaches:
        st.info(tr("board.no_data"))
    else:
        c1, c2 = st.columns(2)
        with c1:
            st.markdown(f"#### {tr('board.trend')}")
            trend = view.trend_frame(breaches, L)
            charts.show(alt.Chart(trend).mark_line(point=True).encode(
                x=alt.X("day:T", title=None, axis=alt.Axis(format=charts.DAY, labelAngle=0)),
                y=alt.Y("n:Q", title=None),
                color=alt.Color("rule:N", title=None, legend=alt.Legend(orient="bottom", columns=2)),
                tooltip=[charts.tip("day:T", tr("col.day"), "%Y-%m-%d"), charts.tip("rule:N", tr("col.rule")),
                         charts.tip("n:Q", tr("board.count"))])
                .properties(height=260), L)
        with c2:
            st.markdown(f"#### {tr('board.heatmap')}")
            heat = view.heatmap_frame(breaches, L)
            charts.show(alt.Chart(heat).mark_rect().encode(
                x=alt.X("hour:O", title=None), y=alt.Y("weekday:N", sort=alt.SortField("order"), title=None),
                color=alt.Color("n:Q", title=None, scale=alt.Scale(scheme="orangered")),
                tooltip=[charts.tip("weekday:N", tr("col.weekday")), charts.tip("hour:O", tr("col.hour")),
                         charts.tip("n:Q", tr("board.count"))]).properties(height=260), L)
        st.markdown(f"#### {tr('board.breakdown')}")
        st.dataframe(view.breakdown_frame(breaches, L), width="stretch")

    reach = int(appeal_days) - int(appeal_warn)
    st.markdown(f"#### {tr('board.appeal', days=int(appeal_days))}")
    st.caption(tr("board.appeal_help", days=int(appeal_days), unit=tr(f"board.unit.{appeal_unit}"), reach=reach))
    appeal = view.appeal_frame(data["appeal"], now, int(appeal_days), L)
    if appeal.empty:
        st.success(tr("board.appeal_empty"))
    else:
        picked = st.dataframe(appeal, hide_index=True, width="stretch", key="board_appeal",
                              on_select="rerun", selection_mode="single-row",
                              column_order=[c for c in appeal.columns if c != tr("board.case")],
                              column_config={"link": st.column_config.LinkColumn(tr("board.case"), display_text=r"case=(.*)$")})
        open_picked(picked, appeal)

    handler_table = view.handler_frame(handler_rows, L, late_notices)
    e1 = e2 = exports
    page_name = tr("page.board")
    e1.download_button(tr("board.export_csv"), view.export_csv(queue), file_name=view.export_name(page_name, now, "csv"),
                       mime="text/csv", key="board_csv")
    stamp = view.export_stamp(now, (current_user(touch=False) or {}).get("display_name", ""), L)
    e2.download_button(tr("board.export_xlsx"),
                       view.export_xlsx({tr("board.queue"): queue, tr("board.by_handler"): handler_table}, stamp),
                       file_name=view.export_name(page_name, now, "xlsx"), key="board_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


live_board()
