"""Daily and weekly supervision reports (PDF and Excel) for the centre or one team."""
from __future__ import annotations

import streamlit as st

from db.queries import team_names
from domain.config import local_zone
from services.reports import PERIODS, ReportRefused, build, period_of, report_pdf, report_xlsx
from rules.catalogue import BY_ID
from ui.auth import guard
from ui.common import as_of, date_bounds, db, lang, md, refusal, tr, words

guard("reports")
L = lang()
now = as_of()
st.title(tr("page.reports"))
st.caption(tr("rep.intro"))
with db() as session:
    options = team_names(session)
c1, c2, c3 = st.columns(3)
kind = c1.radio(tr("rep.period"), list(PERIODS), horizontal=True, key="rep_period", format_func=words("rep.period"))
day = c2.date_input(tr("rep.date"), value=now.astimezone(local_zone()).date(), **date_bounds(), key="rep_date")
team = c3.selectbox(tr("rep.team"), [""] + options, key="rep_team", format_func=lambda t: t or "—")
try:
    with db() as session:
        report = build(session, period_of(kind, day), team or None, now)
except ReportRefused as exc:
    st.warning(tr("rep.refused", error=md(refusal(exc))))
    st.stop()

stamp = f"{report['period'].start:%Y%m%d}"
name = f"督办{'日报' if kind == 'day' else '周报'}_{team or '全中心'}_{stamp}"
d1, d2, _ = st.columns([1, 1, 3])
d1.download_button(tr("rep.pdf"), report_pdf(report), file_name=f"{name}.pdf", mime="application/pdf", key="rep_pdf")
d2.download_button(tr("rep.xlsx"), report_xlsx(report), file_name=f"{name}.xlsx", key="rep_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
st.markdown(f"#### {tr('rep.compliance')} · {md(report['period'].label())}")
st.dataframe([{tr("col.rule"): BY_ID[r["rule_id"]].title_zh if L == "zh" else BY_ID[r["rule_id"]].title_en,
               tr("col.clause"): BY_ID[r["rule_id"]].clause, "✓": r["met"], "✗": r["breached"],
               "%": "—" if r["rate"] is None else f"{100 * r['rate']:.1f}"} for r in report["compliance"]],
             hide_index=True, width="stretch")
