"""The typical-case library (10.1.2): filter and search de-identified cases, read a case as a story along
Appendix A, and put cases into a training pack (6.2)."""
from __future__ import annotations

import altair as alt
import streamlit as st

from domain.i18n import t

from db.library import CLAUSES, LibraryFilters, library_case, library_facets, pack_cases, search_library
from db.queries import case_obligations
from services.library_view import RIGHT, matching_line, pack_docx, pack_pdf, pack_rows, story
from services.board import export_name, export_stamp, export_xlsx
from domain.textsearch import highlight_markdown, highlight_terms
from domain.timeutil import fmt_local
from services.views import timeline_frame
from domain.vocab import ENUMS, label
from ui.auth import allowed, current_user, guard
from ui.common import as_of, db, lang, md, tr, words
from ui import charts

guard("library")
L = lang()
now = as_of()
st.title(tr("page.library"))
pack: list[str] = st.session_state.setdefault("lib_pack", [])


def show_case(case_no: str) -> None:
    with db() as session:
        rec = library_case(session, case_no)
        obligations = case_obligations(session, rec["id"], now) if rec else []
    if rec is None:
        st.warning(tr("lib.not_in_library", case_no=md(case_no)))
        return
    mark = rec["mark"]
    if st.button(tr("lib.back"), key="lib_back", icon=":material/arrow_back:"):
        st.session_state.pop("lib_open", None)
        st.query_params.pop("case", None)
        st.rerun()
    st.subheader(md(f"{rec['case_no']} · {label('category', rec['category'], L)} · {rec['subcategory'] or ''}"))
    badges = []
    if mark["example"]:
        badges.append((":green-badge[" if mark["example"] == "good" else ":red-badge[") + tr(f"lib.example.{mark['example']}") + "]")
    badges += [f":blue-badge[{md(x)}]" for x in mark["tags"]] + [f":gray-badge[{md(x)}]" for x in mark["clauses"]]
    if badges:
        st.markdown(" ".join(badges))
    st.markdown(f"**{tr('lib.col.summary')}**：{md(mark['summary'] or tr('lib.no_summary'))}")
    if mark["lesson"]:
        st.markdown(f"**{tr('lib.col.lesson')}**：{md(mark['lesson'])}")
    who = tr("lib.by_import") if mark["marked_by"] == "import" else mark["marked_by"]
    st.caption(tr("lib.marked_by", who=who, when=fmt_local(mark["marked_at"])))
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"#### {tr('lib.story')}")
        for n, step in enumerate(story(rec, obligations, now, L), start=1):
            icon = ":material/check_circle:" if step["done"] else ":material/radio_button_unchecked:"
            st.markdown(f"{icon} **{n}. {md(step['step'])}**" + (f" · {step['when']}" if step["when"] else ""))
            if step["text"]:
                st.markdown(md(step["text"]))
            for v in step["verdicts"]:
                colour = "green" if v["kind"] == RIGHT else "red"
                st.markdown(f":{colour}[{'✓' if v['kind'] == RIGHT else '✗'} {md(v['clause'])} {md(v['title'])}]"
                            f" — {md(v['detail'])}")
    with right:
        st.markdown(f"#### {tr('detail.timeline')}")
        frame = timeline_frame(rec, obligations, now, L)
        chart = (alt.Chart(frame).mark_point(size=110, filled=True)
                 .encode(x=alt.X("time:T", title=None, axis=alt.Axis(format=charts.MINUTE, labelAngle=0)),
                         y=alt.Y("lane:N", title=None), color=alt.Color("event:N", title=None),
                         tooltip=[charts.tip("event:N", tr("col.event")), charts.tip("time:T", tr("col.time"), charts.FULL_MINUTE)])
                 .properties(height=180))
        charts.show(chart, L)
        contacts = [{tr("col.time"): fmt_local(c["contact_at"]), tr("col.kind"): label("contact_kind", c["kind"], L),
                     tr("col.note"): c["note"]} for c in rec["contacts"] if c["contact_at"] <= now]
        if contacts:
            st.dataframe(contacts, hide_index=True, width="stretch")
    if case_no in pack:
        st.caption(tr("lib.in_pack"))
    elif st.button(tr("lib.add_to_pack"), key="lib_add_open"):
        pack.append(case_no)
        st.rerun()


opened = st.query_params.get("case") or st.session_state.get("lib_open")
if opened:
    st.session_state["lib_open"] = opened
    st.query_params["case"] = opened
    show_case(opened)
    st.stop()

with db() as session:
    facets = library_facets(session)
query = st.text_input(tr("lib.query"), key="lib_query", placeholder=tr("lib.query_hint"))
c1, c2, c3, c4, c5, c6 = st.columns(6)
categories = c1.multiselect(tr("search.category"), list(ENUMS["category"]), placeholder=tr("common.choose"), key="lib_categories",
                            format_func=lambda v: label("category", v, L))
subs = c2.multiselect(tr("lib.col.sub"), facets["subcategories"], placeholder=tr("common.choose"), key="lib_subs")
tags = c3.multiselect(tr("lib.col.tags"), facets["tags"], placeholder=tr("common.choose"), key="lib_tags")
clauses = c4.multiselect(tr("lib.col.clauses"), list(CLAUSES), placeholder=tr("common.choose"), key="lib_clauses")
outcome = c5.selectbox(tr("lib.col.outcome"), ["any", "satisfied", "dissatisfied"], key="lib_outcome",
                       format_func=words("lib.outcome"))
example = c6.selectbox(tr("lib.col.example"), ["any", "good", "bad"], key="lib_example",
                       format_func=lambda v: t(f"lib.example.{v}" if v != "any" else "lib.outcome.any", L))
filters = LibraryFilters(query=query, categories=categories, subcategories=subs, tags=tags, clauses=clauses,
                         outcome=outcome, example=example)
with db() as session:
    entries = search_library(session, filters)
terms = highlight_terms(query) if query.strip() else []
st.caption(tr("lib.count", n=len(entries)) + (" · " + tr("lib.ranked") if terms else ""))
if not entries:
    st.info(tr("lib.none"))

for e in entries[:50]:
    with st.container(border=True):
        head, act = st.columns([5, 1])
        example_badge = ""
        if e["example"]:
            example_badge = (" :green-badge[" if e["example"] == "good" else " :red-badge[") + tr(f"lib.example.{e['example']}") + "]"
        head.markdown(f"**{md(e['case_no'])}** · {label('category', e['category'], L)} · {md(e['subcategory'] or '')}"
                      + example_badge + "".join(f" :blue-badge[{md(x)}]" for x in e["tags"]))
        head.markdown(highlight_markdown(e["summary"] or tr("lib.no_summary"), terms))
        if e.get("similar"):
            head.caption(tr("lib.similar", n=e["similar"]))
        if e["lesson"]:
            head.markdown(f"{tr('lib.col.lesson')}：" + highlight_markdown(e["lesson"], terms))
        if terms:
            hit = matching_line(e["library_text"], terms)
            if hit:
                head.markdown(":small[…" + highlight_markdown(hit, terms) + "…]")
        if act.button(tr("lib.open"), key=f"lib_open_{e['case_no']}"):
            st.session_state["lib_open"] = e["case_no"]
            st.rerun()
        if e["case_no"] in pack:
            act.caption(tr("lib.in_pack"))
        elif act.button(tr("lib.add"), key=f"lib_add_{e['case_no']}"):
            pack.append(e["case_no"])
            st.rerun()

st.divider()
st.markdown(f"#### {tr('lib.pack')}")
if not pack:
    st.caption(tr("lib.pack_empty"))
    st.stop()
# keyed by the pack's content: adding a case elsewhere on the page starts the widget afresh
chosen = st.multiselect(tr("lib.pack_cases"), pack, default=pack, placeholder=tr("common.choose"), key="lib_pack_chosen_" + "|".join(pack))
if chosen != pack:
    st.session_state["lib_pack"] = list(chosen)
    st.rerun()
title = st.text_input(tr("lib.pack_title"), value=tr("lib.pack_default"), key="lib_pack_title")
if allowed("export_pack") and chosen:
    with db() as session:
        cases = pack_cases(session, chosen, now)
        in_pack = [e for e in search_library(session, LibraryFilters(), limit=100000) if e["case_no"] in chosen]
    c1, c3, c2 = st.columns(3)
    c1.download_button(tr("lib.export_docx"), pack_docx(title, cases, now, L), file_name=export_name(tr("lib.pack"), now, "docx"),
                       mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document", key="lib_docx")
    c3.download_button(tr("lib.export_pdf"), pack_pdf(title, cases, now, L), file_name=export_name(tr("lib.pack"), now, "pdf"),
                       mime="application/pdf", key="lib_pdf")
    c2.download_button(tr("lib.export_xlsx"), export_xlsx({tr("lib.pack"): pack_rows(in_pack, L)},
                                                          export_stamp(now, (current_user(touch=False) or {}).get("display_name", ""), L)),
                       file_name=export_name(tr("lib.pack"), now, "xlsx"), key="lib_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
