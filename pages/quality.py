"""Inspection results (the personnel assessment of 6.3) and calibration between inspectors."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from db.reviews import overturned
from db.autocheck import auto_scores, closed_case_ids
from db.inspection import (assessment_rows, calibration_rows, ensure_default_scorecard, item_rows, latest_scorecards,
                          scorecard)
from services.board import export_name, export_stamp, export_xlsx
from domain.config import local_zone
from domain.timeutil import fmt_local
from domain.quality import agreement, auto_summary, by_group, disagreements, labelled, pareto
from ui.auth import current_user, guard
from ui.common import as_of, date_bounds, db, lang, teams, tr
from ui import charts

guard("quality")
L = lang()
now = as_of()
st.title(tr("page.quality"))

today = now.astimezone(local_zone()).date()
period = st.date_input(tr("qa.period"), value=(today.replace(day=1) - timedelta(days=150), today), **date_bounds(), key="qr_period")
if not (isinstance(period, (tuple, list)) and len(period) == 2):
    st.warning(tr("qa.need_period"))
    st.stop()
start = datetime.combine(period[0], time(0), tzinfo=local_zone())
end = datetime.combine(period[1] + timedelta(days=1), time(0), tzinfo=local_zone())

@st.cache_data(ttl=300, show_spinner=False)
def automatic(start: datetime, end: datetime, chosen_teams: tuple[str, ...], card_id: int, minute: datetime):
    """The automatic check of the period's closed cases, kept for five minutes per period, team filter and
    minute (a large centre's five months take seconds: benchmarks/bench_autocheck.py)."""
    with db() as session:
        return auto_scores(session, closed_case_ids(session, start, end, chosen_teams), scorecard(session, card_id),
                           minute)


with db() as session:
    ensure_default_scorecard(session)
    titles = {}
    for card in latest_scorecards(session):
        titles.update({i["key"]: i["title_zh"] if L == "zh" else i["title_en"] for i in card["items"]})
    assessed = assessment_rows(session, start, end)
    teams_chosen = teams()
    if teams():  # the sidebar's team filter applies here too
        assessed = assessed[assessed["team"].isin(teams())].reset_index(drop=True)
    # the handler filter applies to every figure, table and chart below and to the export
    chosen = st.multiselect(tr("qa.filter.handlers"), sorted(assessed["handler"].dropna().unique()),
                            key="qr_handlers", placeholder=tr("qa.filter.all_handlers"))
    if chosen:
        assessed = assessed[assessed["handler"].isin(chosen)].reset_index(drop=True)
    items = item_rows(session, assessed["id"].tolist())
    cal = calibration_rows(session, now)
    card = latest_scorecards(session)[0]
    turned = [r for r in overturned(session, start, end, teams()) if not chosen or r["handler"] in chosen]

handlers = by_group(assessed, items, "handler", L, titles)
teams = by_group(assessed, items, "team", L, titles)
failed = pareto(items)
failed.insert(2, "title", failed["item_key"].map(lambda k: titles.get(k, k)))
failed_shown = labelled(failed.drop(columns=["item_key"]).rename(columns={"title": "item_key"}), L)
agree = agreement(cal)
agree_shown = labelled(agree.assign(item_key=agree["item_key"].map(lambda k: titles.get(k, k))), L) \
    if not agree.empty else labelled(agree, L)
diff = disagreements(cal) if not cal.empty else pd.DataFrame()
if not diff.empty:
    verdicts = {v: tr(f"qa.verdict.{v}") for v in ("pass", "fail", "na")}
    people = [c for c in diff.columns if c not in ("case_no", "item_key", "clause")]
    diff = labelled(diff.assign(item_key=diff["item_key"].map(lambda k: titles.get(k, k)),
                                **{p: diff[p].map(lambda v: verdicts.get(v, "—")) for p in people}), L)

m1, m2, m3 = st.columns(3)
m1.metric(tr("qa.metric.assessed"), len(assessed))
m2.metric(tr("qa.metric.mean"), "—" if assessed["score"].dropna().empty else f"{assessed['score'].dropna().mean():.1f}")
m3.metric(tr("qa.metric.pass_rate"), "—" if assessed.empty else f"{100 * assessed['passed'].mean():.1f}%")

t_handler, t_team, t_pareto, t_auto, t_cal, t_turned = st.tabs([tr("qa.tab.handler"), tr("qa.tab.team"), tr("qa.tab.pareto"),
                                                               tr("qa.tab.auto"),
                                                       tr("qa.tab.calibration"), tr("qa.tab.overturned")])
with t_turned:  # rejections a supervisor overturned (7.1.2): findings against the handler who rejected
    if not turned:
        st.info(tr("qa.no_results"))
    else:
        frame = pd.DataFrame(turned)
        per = frame.groupby("handler").size().reset_index(name="n").sort_values("n", ascending=False)
        st.dataframe(per.rename(columns={"handler": tr("qa.col.handler"), "n": tr("qa.col.overturned")}),
                     hide_index=True, width="stretch")
        st.dataframe(pd.DataFrame([{tr("board.case"): r["case_no"], tr("col.time"): fmt_local(r["reviewed_at"]),
                                    tr("qa.col.handler"): r["handler"], tr("col.note"): r["note"]} for r in turned]),
                     hide_index=True, width="stretch")
with t_handler:
    if handlers.empty:
        st.info(tr("qa.no_results"))
    else:
        # one line per chosen handler (a few), else the month's mean over everyone shown
        shown_handlers = handlers if chosen and len(chosen) <= 8 else (
            handlers.groupby("month", as_index=False)
            .apply(lambda g: pd.Series({"mean_score": (g["mean_score"] * g["assessed"]).sum() / g["assessed"].sum(),
                                        "assessed": g["assessed"].sum()}), include_groups=False)
            .assign(handler=tr("qa.filter.all_handlers")))
        chart = (alt.Chart(shown_handlers).mark_line(point=True)
                 .encode(x=alt.X("month:O", title=tr("qa.col.month")),
                         y=alt.Y("mean_score:Q", title=tr("qa.col.mean_score"), scale=alt.Scale(domain=[0, 100])),
                         color=alt.Color("handler:N", title=tr("qa.col.handler")),
                         tooltip=[charts.tip("handler:N", tr("qa.col.handler")), charts.tip("month:O", tr("qa.col.month")),
                                  charts.tip("mean_score:Q", tr("qa.col.mean_score"), ".1f"),
                                  charts.tip("assessed:Q", tr("qa.col.assessed"))]).properties(height=220))
        charts.show(chart, L)
        st.dataframe(labelled(handlers, L), hide_index=True, width="stretch")
with t_team:
    if teams.empty:
        st.info(tr("qa.no_results"))
    else:
        st.dataframe(labelled(teams, L), hide_index=True, width="stretch")
with t_pareto:
    if failed.empty:
        st.info(tr("qa.no_failed"))
    else:
        base = alt.Chart(failed).encode(x=alt.X("clause:N", sort=None, title=tr("qa.col.clause")))
        bars = base.mark_bar().encode(y=alt.Y("failed:Q", title=tr("qa.col.failed")),
                                      tooltip=[charts.tip("title:N", tr("qa.col.item_key")),
                                               charts.tip("failed:Q", tr("qa.col.failed")),
                                               charts.tip("share:Q", tr("qa.col.share"), ".1f")])
        line = base.mark_line(point=True, color="#d62728").encode(
            y=alt.Y("cumulative:Q", title=tr("qa.col.cumulative"), scale=alt.Scale(domain=[0, 100])))
        charts.show(alt.layer(bars, line).resolve_scale(y="independent").properties(height=260), L)
        st.dataframe(failed_shown, hide_index=True, width="stretch")
with t_auto:
    st.caption(tr("qa.auto_note"))
    with st.spinner(tr("qa.working")):
        auto = automatic(start, end, tuple(teams_chosen), card["id"], now.replace(second=0))
    if chosen:
        auto = auto[auto["handler"].isin(chosen)].reset_index(drop=True)
    scored = auto[auto["auto_score"].notna()]
    a1, a2, a3 = st.columns(3)
    a1.metric(tr("qa.auto.cases"), f"{len(scored):,}")
    a2.metric(tr("qa.auto.mean"), "—" if scored.empty else f"{scored['auto_score'].mean():.1f}")
    a3.metric(tr("qa.auto.pass_rate"), "—" if scored.empty else f"{100 * scored['auto_passed'].astype(float).mean():.1f}%")
    if scored.empty:
        st.info(tr("qa.no_results"))
    else:
        side = auto_summary(auto, assessed)
        st.dataframe(pd.DataFrame({
            tr("qa.col.handler"): side["handler"], tr("qa.auto.col.cases"): side["auto_cases"],
            tr("qa.auto.col.mean"): side["auto_mean"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
            tr("qa.auto.col.pass"): side["auto_pass"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
            tr("qa.auto.col.human_cases"): side["human_cases"],
            tr("qa.auto.col.human_mean"): side["human_mean"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
        }), hide_index=True, width="stretch")
        st.markdown(f"#### {tr('qa.auto.lowest')}")
        low = scored.sort_values(["auto_score", "case_no"]).head(20)
        st.dataframe(pd.DataFrame({
            tr("qa.col.case_no"): low["case_no"], tr("qa.col.handler"): low["handler"],
            tr("qa.auto.col.score"): low["auto_score"].map(lambda v: f"{v:.1f}"),
            tr("qa.auto.col.failed"): low["failed"].map(lambda keys: "、".join(titles.get(k, k) for k in keys)),
        }), hide_index=True, width="stretch")
with t_cal:
    st.caption(tr("qa.calibration_note"))
    if cal.empty:
        st.info(tr("qa.no_calibration"))
    else:
        st.markdown(f"#### {tr('qa.agreement')}")
        st.dataframe(agree_shown, hide_index=True, width="stretch")
        st.markdown(f"#### {tr('qa.disagreements')}")
        if diff.empty:
            st.success(tr("qa.no_disagreement"))
        else:
            st.dataframe(diff, hide_index=True, width="stretch")

sheets = {tr("qa.tab.handler"): labelled(handlers, L), tr("qa.tab.team"): labelled(teams, L),
          tr("qa.tab.pareto"): failed_shown, tr("qa.tab.calibration"): agree_shown}
if not diff.empty:  # the same disagreements as on screen
    sheets[tr("qa.disagreements")] = diff
stamp = export_stamp(now, (current_user(touch=False) or {}).get("display_name", ""), L)
st.download_button(tr("qa.export"), export_xlsx(sheets, stamp), file_name=export_name(tr("page.quality"), now, "xlsx"),
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="qr_export")
