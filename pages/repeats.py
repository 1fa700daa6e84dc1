"""Repeat complaints (重复投诉, 10.2): the period's repeat rate, where it comes from (category, team, handler)
and the repeats themselves. Customers are matched by a keyed digest of the phone number; no number shows."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from db.repeats import RepeatPolicy, data_stamp, policy, repeat_summary, save_policy
from domain.config import database_url, local_zone
from domain.repeats import MAX_WINDOW_DAYS, SCOPES
from services.improvement import rates_frame, repeats_frame
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, date_bounds, db, flash, lang, teams, tr, words

guard("repeats")
L = lang()
now = as_of()
st.title(tr("page.repeats"))
st.caption(tr("repeat.intro"))

with db() as session:
    saved = policy(session)
today = now.astimezone(local_zone()).date()
c1, c2, c3 = st.columns([2, 1, 1])
period = c1.date_input(tr("repeat.period"), value=(today.replace(day=1) - timedelta(days=60), today), **date_bounds(),
                       key="repeat_period")
window = c2.number_input(tr("repeat.window"), min_value=1, max_value=MAX_WINDOW_DAYS, value=saved.window_days, step=1,
                         key="repeat_window")
scope = c3.selectbox(tr("repeat.scope"), SCOPES, index=SCOPES.index(saved.scope), format_func=words("repeat.scope"),
                     key="repeat_scope")
rule = RepeatPolicy(int(window), scope)
if rule != saved and allowed("edit_improvement"):
    if st.button(tr("repeat.save_policy"), key="repeat_save"):
        with db() as session:
            save_policy(session, rule, actor(), role())
        flash(tr("repeat.policy_saved"))
        st.rerun()
if not (isinstance(period, (tuple, list)) and len(period) == 2):
    st.warning(tr("repeat.need_period"))
    st.stop()
start = datetime.combine(period[0], time(0), tzinfo=local_zone())
end = datetime.combine(period[1] + timedelta(days=1), time(0), tzinfo=local_zone())

@st.cache_data(ttl=600, show_spinner=False, max_entries=50)
def figures(url: str, stamp: tuple, start: datetime, end: datetime, chosen_teams: tuple[str, ...],
            chosen: RepeatPolicy) -> dict:
    """Seconds of work at 100k complaints: kept until the cases or the rule change (`stamp`)."""
    with db() as session:
        return repeat_summary(session, start, end, chosen_teams, chosen)


with db() as session:
    stamp = data_stamp(session)
summary = figures(database_url(), stamp, start, end, tuple(teams()), rule)

m1, m2, m3 = st.columns(3)
m1.metric(tr("repeat.cases"), summary["cases"])
m2.metric(tr("repeat.repeats"), summary["repeats"])
m3.metric(tr("repeat.rate"), "—" if summary["rate"] is None else f"{summary['rate']:.1f}%")

st.markdown(f"#### {tr('repeat.by_category')}")
st.dataframe(rates_frame(summary["by_category"], "category", L), hide_index=True, width="stretch")
left, right = st.columns(2)
left.markdown(f"#### {tr('repeat.by_team')}")
left.dataframe(rates_frame(summary["by_team"], "team", L), hide_index=True, width="stretch")
right.markdown(f"#### {tr('repeat.by_handler')}")
right.dataframe(rates_frame(summary["by_handler"], "handler", L), hide_index=True, width="stretch")
st.caption(tr("repeat.followed_note"))

st.markdown(f"#### {tr('repeat.list')}")
if summary["list"].empty:
    st.info(tr("repeat.none"))
else:
    st.dataframe(repeats_frame(summary["list"], L), hide_index=True, width="stretch")
