"""The clustered problem list (10.2.2, managers' landing page): specific problems found in complaint text, with
their size, weekly trend, missed deadlines, dissatisfaction and teams; rename, merge, split, and one click
to the problem register."""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from db.clusters import (ClusterRefused, assign_new, cluster_case_nos, cluster_list, examples, last_run, list_stamp,
                         merge, rename, run, split)
from db.problems import ProblemRefused, create_problem
from domain.config import database_url
from domain.i18n import t
from domain.timeutil import fmt_local
from domain.vocab import ENUMS, label
from services.improvement import clusters_frame, cluster_title
from ui.auth import actor, allowed, current_user, guard, role
from ui.common import as_of, server_now, db, flash, lang, md, refusal, teams, tr

guard("clusters")
L = lang()
now = as_of()
live = server_now()  # writes and access decisions: the server's clock, never the replay instant
st.title(tr("page.clusters"))
st.caption(tr("clu.intro"))
editor = allowed("edit_improvement")

with db() as session:
    assign_new(session, live)  # complaints imported since the last run join their nearest problem
    ran = last_run(session)
c1, c2 = st.columns([3, 1])
c1.caption(tr("clu.last_run", when=fmt_local(ran)) if ran else tr("clu.never"))
if editor and c2.button(tr("clu.run"), key="clu_run", type="primary"):
    with st.spinner(tr("clu.run")):
        with db() as session:
            summary = run(session, actor(), role(), live)
    flash(tr("clu.ran", summary="，".join(f"{label('category', c, L)} {n}" for c, n in summary.items())))
    st.rerun()

choices = ["", *ENUMS["category"]]
category = st.radio(tr("clu.category"), choices, horizontal=True, key="clu_category",
                    format_func=lambda v: label("category", v, L) if v else t("clu.all", L))


@st.cache_data(ttl=600, show_spinner=False, max_entries=50)
def listed(url: str, stamp: tuple, at: datetime, chosen_category: str, chosen_teams: tuple[str, ...]) -> list[dict]:
    """The list is seconds of work at 100k complaints: kept until a run, a rename, merge or split, a new member
    (`stamp`) or the next five minutes (`at`, for the missed-deadline shares)."""
    with db() as session:
        return cluster_list(session, at, chosen_category or None, teams=chosen_teams)


with db() as session:
    stamp = list_stamp(session)
rows = listed(database_url(), stamp, now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0),
              category, tuple(teams()))
if not rows:
    st.info(tr("clu.none"))
    st.stop()

picked = st.dataframe(clusters_frame(rows, L), hide_index=True, width="stretch", on_select="rerun",
                      selection_mode="single-row", key="clu_table",
                      column_config={tr("clu.col.trend"): st.column_config.LineChartColumn(tr("clu.col.trend"))})
chosen = picked.selection.rows if picked else []
if chosen:
    st.session_state["clu_open"] = rows[chosen[0]]["id"]
titles = {r["id"]: f"#{r['id']} {cluster_title(r, L)}（{r['size']}）" for r in rows}
ids = list(titles)
current = st.session_state.get("clu_open")
pick = st.selectbox(tr("clu.open"), ids, index=ids.index(current) if current in ids else None, format_func=titles.get,
                    placeholder=tr("clu.pick"), key=f"clu_pick_{current}")  # follows a row chosen in the table
if pick is not None and pick != current:
    st.session_state["clu_open"] = pick
    st.rerun()
c = next((r for r in rows if r["id"] == st.session_state.get("clu_open")), None)
if c is None:
    st.caption(tr("clu.pick"))
    st.stop()
cid = c["id"]
st.markdown(f"### #{cid} {md(cluster_title(c, L))}")
st.caption(tr("clu.terms", terms=md("、".join(c["terms"]))))
st.markdown(f"#### {tr('clu.examples')}")
with db() as session:
    shown = examples(session, c["examples"])
for e in shown:
    with st.container(border=True):
        st.caption(md(f"{e['case_no']} · {e['subcategory']} · {e['handler']}"))
        st.text(e["text"])  # de-identified, and never Markdown


def attempt(action, done) -> None:
    try:
        with db() as session:
            message = action(session)
    except (ClusterRefused, ProblemRefused) as exc:
        st.error(tr("clu.refused", error=md(refusal(exc))))
    else:
        flash(done(message) if callable(done) else done)
        st.rerun()


if not editor:
    st.stop()
st.divider()
left, right = st.columns(2)
with left.form(f"clu_rename_{cid}"):
    name = st.text_input(tr("clu.rename"), value=c["name"] or "", max_chars=200)
    if st.form_submit_button(tr("clu.rename_save")):
        attempt(lambda s: rename(s, cid, name, actor(), role(), live), tr("clu.saved"))
with right.form(f"clu_merge_{cid}"):
    others = {r["id"]: f"#{r['id']} {cluster_title(r, L)}" for r in rows if r["id"] != cid and r["category"] == c["category"]}
    chosen_others = st.multiselect(tr("clu.merge_with"), list(others), format_func=others.get,
                                   placeholder=tr("common.choose"))
    if st.form_submit_button(tr("clu.merge")):
        attempt(lambda s: merge(s, [cid, *chosen_others], actor(), role(), live), lambda kept: tr("clu.merged", id=kept))
b1, b2 = st.columns(2)
if b1.button(tr("clu.split"), key=f"clu_split_{cid}"):
    attempt(lambda s: split(s, cid, actor(), role(), live), lambda ids: tr("clu.split_done", a=ids[0], b=ids[1]))
if b2.button(tr("clu.to_problem"), key=f"clu_problem_{cid}", type="primary"):
    def register(s):
        numbers = cluster_case_nos(s, cid)
        statement = t("clu.problem_statement", L, id=cid, terms="、".join(c["terms"][:6]), n=c["size"])
        owner = (current_user() or {}).get("display_name") or actor()
        new_id = create_problem(s, cluster_title(c, L), statement, owner, numbers, actor(), role(), live,
                                scope_category=c["category"], scope_subcategories=[], scope_cluster_id=cid)
        st.session_state["capa_open"] = new_id
        return new_id

    try:
        with db() as session:
            made = register(session)
    except ProblemRefused as exc:
        st.error(tr("clu.refused", error=md(refusal(exc))))
    else:
        flash(tr("capa.created", id=made))
        st.switch_page("pages/problems.py")
