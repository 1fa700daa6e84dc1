"""Blind calibration sessions (6.3) and how each inspector grades: strict, lenient, or in step."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from db import calibration as cal
from db.inspection import assessment_rows, item_rows, load_plan_card
from db.users import display_names
from domain import calibration as stats
from domain.scorecard import VERDICTS
from domain.timeutil import fmt_local
from services.views import person
from ui import charts
from ui.auth import actor, guard, role
from ui.common import server_now, confirmed, db, flash, lang, md, refusal, tr

guard("calibration")
L = lang()
# Blindness is an access decision: the server's clock decides whether a session has closed, never the
# sidebar's replay instant (a date past the deadline must not reveal the other inspectors' verdicts).
live = server_now()
me = actor()
st.title(tr("page.calibration"))

with db() as session:
    rows = cal.sessions(session, live)
    people = display_names(session)

t_session, t_graders = st.tabs([tr("cal.tab.session"), tr("cal.tab.graders")])
with t_session:
    if not rows:
        st.info(tr("cal.none"))
    else:
        sid = st.selectbox(tr("cal.pick"), [r["id"] for r in rows], key="cal_session",
                           format_func=lambda i: next(f"#{r['id']} {r['name']}" for r in rows if r["id"] == i))
        row = next(r for r in rows if r["id"] == sid)
        st.markdown(f"**{tr('cal.state.closed' if row['closed'] else 'cal.state.open')}**")
        st.caption(tr("cal.head", lead=md(person(row["lead"], people, L)), deadline=fmt_local(row["deadline"]),
                      cases=row["cases"], answered=row["answered"], items=row["items"],
                      threshold=f"{row['threshold']:g}"))
        may_lead = me == row["lead"] or role() == "admin"
        with db() as session:
            done = cal.progress(session, sid)
            card = load_plan_card(session, row["plan_id"])
        st.dataframe(pd.DataFrame({tr("qa.col.inspector"): [person(u, people, L) for u in done["inspector"]],
                                   tr("cal.col.given"): done["given"], tr("cal.col.answered"): done["answered"]}),
                     hide_index=True, width="stretch")
        titles = {i["key"]: (i["title_zh"] if L == "zh" else i["title_en"]) for i in card["items"]}
        verdict_word = {v: tr(f"qa.verdict.{v}") for v in VERDICTS}
        if not row["closed"]:
            st.info(tr("cal.blind"), icon=":material/visibility_off:")
            with db() as session:
                mine = cal.answers(session, sid, me, live, whose=me)
            if not mine.empty:
                st.markdown(f"#### {tr('cal.mine')}")
                st.dataframe(pd.DataFrame({tr("qa.col.case_no"): mine["case_no"],
                                           tr("qa.col.item_key"): mine["item_key"].map(lambda k: titles.get(k, k)),
                                           tr("qa.col.verdict"): mine["verdict"].map(verdict_word)}),
                             hide_index=True, width="stretch")
            if may_lead and confirmed(tr("cal.close"), "cal_close", tr("cal.close_confirm")):
                try:
                    with db() as session:
                        cal.close_session(session, sid, me, role(), live)
                except cal.CalibrationRefused as exc:
                    st.error(tr("edit.refused", error=md(refusal(exc))))
                else:
                    flash(tr("cal.closed_now"))
                    st.rerun()
        else:
            with db() as session:
                answers = cal.answers(session, sid, me, live)
                scores = cal.scores(session, sid, me, live)
                agreed = cal.consensus(session, sid)
            if answers.empty:
                st.info(tr("cal.no_answers"))
            else:
                whole = stats.overall(answers, scores)
                items = stats.items_table(answers, card["items"], row["threshold"], agreed)
                items = items.sort_values("discuss", ascending=False, kind="stable")  # what to discuss comes first
                c1, c2, c3 = st.columns(3)
                c1.metric(tr("cal.alpha_verdicts"), "—" if whole["alpha_verdicts"] is None else f"{whole['alpha_verdicts']:.3f}",
                          help=tr("cal.alpha_help"))
                c2.metric(tr("cal.alpha_scores"), "—" if whole["alpha_scores"] is None else f"{whole['alpha_scores']:.3f}")
                c3.metric(tr("cal.discuss_n"), int(items["discuss"].sum()))
                st.markdown(f"#### {tr('cal.items')}")
                shown = pd.DataFrame({
                    tr("qa.col.clause"): items["clause"],
                    tr("qa.col.item_key"): items["title_zh"] if L == "zh" else items["title_en"],
                    tr("qa.col.cases"): items["cases"],
                    tr("qa.col.agreement"): items["agreement"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
                    tr("cal.col.spread"): items["spread"].map(lambda v: "—" if pd.isna(v) else f"{v:.3f}"),
                    tr("cal.col.alpha"): items["alpha"].map(lambda v: "—" if v is None or pd.isna(v) else f"{v:.3f}"),
                    tr("cal.col.discuss"): items["discuss"].map(lambda d: tr("cal.discuss") if d else ""),
                    tr("cal.col.off"): items["off_consensus"].map(lambda v: "—" if v is None or pd.isna(v) else int(v)),
                })
                st.dataframe(shown.style.apply(lambda r: ["background-color: #fde8e6" if r[tr("cal.col.discuss")] else ""
                                                          for _ in r], axis=1),
                             hide_index=True, width="stretch")
                st.markdown(f"#### {tr('cal.pairs')}")
                pairs = stats.pairs_table(answers)
                st.dataframe(pd.DataFrame({
                    tr("qa.col.pair"): [f"{person(a, people, L)} × {person(b, people, L)}" for a, b in zip(pairs["a"], pairs["b"])],
                    tr("qa.col.cases"): pairs["n"], tr("qa.col.agreement"): pairs["agreement"].map(lambda v: f"{v:.1f}"),
                    tr("qa.col.kappa"): pairs["kappa"].map(lambda v: "—" if v is None or pd.isna(v) else f"{v:.3f}"),
                }), hide_index=True, width="stretch")
                st.markdown(f"#### {tr('cal.answers')}")
                ordered = items.sort_values("discuss", ascending=False)["item_key"].tolist()
                key = st.selectbox(tr("qa.col.item_key"), ordered, key="cal_item", format_func=lambda k: titles.get(k, k))
                grid = (answers[answers["item_key"] == key]
                        .pivot_table(index="case_no", columns="inspector", values="verdict", aggfunc="first"))
                table = pd.DataFrame({tr("qa.col.case_no"): grid.index})
                for who in grid.columns:
                    table[person(who, people, L)] = [verdict_word.get(v, "") for v in grid[who]]
                table[tr("cal.col.consensus")] = [verdict_word.get(agreed.get((c, key)), "") for c in grid.index]
                st.dataframe(table, hide_index=True, width="stretch")
                if may_lead:
                    with st.form("cal_consensus"):
                        st.caption(tr("cal.consensus_help"))
                        picks = {}
                        for case_no in grid.index:
                            current = agreed.get((case_no, key))
                            picks[case_no] = st.selectbox(case_no, ["", *VERDICTS],
                                                          index=(["", *VERDICTS].index(current) if current else 0),
                                                          format_func=lambda v: verdict_word.get(v, "—"),
                                                          key=f"cal_pick_{sid}_{key}_{case_no}")
                        if st.form_submit_button(tr("cal.save_consensus"), type="primary"):
                            try:
                                with db() as session:
                                    for case_no, verdict in picks.items():
                                        if verdict and verdict != agreed.get((case_no, key)):
                                            cal.set_consensus(session, sid, case_no, key, verdict, me, role(), live)
                            except cal.CalibrationRefused as exc:
                                st.error(tr("edit.refused", error=md(refusal(exc))))
                            else:
                                flash(tr("cal.consensus_saved"))
                                st.rerun()

with t_graders:
    st.caption(tr("cal.graders_help"))
    with db() as session:
        assessed = assessment_rows(session, purpose=None)
        items = item_rows(session, assessed["id"].tolist())
        agreed_all = cal.all_consensus(session)
    table, trend = stats.graders(assessed, items, agreed_all)
    if table.empty:
        st.info(tr("qa.no_results"))
    else:
        st.dataframe(pd.DataFrame({
            tr("qa.col.inspector"): [person(u, people, L) for u in table["inspector"]],
            tr("cal.col.vs_engine_n"): table["engine_n"],
            tr("cal.col.overrides"): table["override_share"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
            tr("cal.col.vs_engine"): table["engine_diff"].map(lambda v: "—" if pd.isna(v) else f"{v:+.1f}"),
            tr("cal.col.vs_consensus_n"): table["consensus_n"],
            tr("cal.col.vs_consensus"): table["consensus_diff"].map(lambda v: "—" if pd.isna(v) else f"{v:+.1f}"),
            tr("cal.col.leaning"): table["leaning"].map(lambda v: tr(f"cal.leaning.{v}")),
        }), hide_index=True, width="stretch")
        if not trend.empty:
            shown = trend.assign(who=[person(u, people, L) for u in trend["inspector"]])
            charts.show(alt.Chart(shown).mark_line(point=True).encode(
                x=alt.X("month:O", title=tr("qa.col.month"), axis=alt.Axis(labelAngle=0)),
                y=alt.Y("engine_diff:Q", title=tr("cal.col.vs_engine"), axis=alt.Axis(format="+.0f")),
                color=alt.Color("who:N", title=tr("qa.col.inspector")),
                tooltip=[charts.tip("who:N", tr("qa.col.inspector")), charts.tip("month:O", tr("qa.col.month")),
                         charts.tip("engine_diff:Q", tr("cal.col.vs_engine"), "+.1f"),
                         charts.tip("n:Q", tr("cal.col.vs_engine_n"))]).properties(height=260), L)
