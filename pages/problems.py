"""The problem register (10.2.1): overdue actions first, then the problems, and the chosen problem's
complaints, root-cause analysis, actions, effectiveness checks and state."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from db.problems import (ProblemRefused, add_action, all_actions, check_effect, create_problem, link_cases, move, overdue_actions,
                         problem_detail, problems, save_analysis, subcategories, update_action)
from domain.capa import ACTION_KINDS, ACTION_STATES, CAUSES, MAX_WHYS, OPEN_STATES
from domain.config import local_zone
from domain.effect import BASES
from domain.i18n import t
from domain.timeutil import fmt_local
from domain.vocab import ENUMS, label
from services.board import export_name, export_stamp
from services.improvement import (actions_frame, checks_frame, problem_pdf, problems_frame, register_xlsx,
                                  split_case_numbers)
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, server_now, date_bounds, db, flash, lang, md, refusal, tr

guard("problems")
L = lang()
now = as_of()
live = server_now()  # writes and access decisions: the server's clock, never the replay instant
st.title(tr("page.problems"))
st.caption(tr("capa.intro"))
editor = allowed("edit_improvement")
if not editor:
    st.info(tr("capa.read_only"))


def local_day(day, end: bool = False) -> datetime:
    return datetime.combine(day, time(23, 59) if end else time(0), tzinfo=local_zone())


def attempt(action, done: str) -> None:
    """Run one register change; a refusal is shown in words, a success after the rerun."""
    try:
        with db() as session:
            action(session)
    except ProblemRefused as exc:
        st.error(tr("capa.refused", error=md(refusal(exc))))
    else:
        flash(done)
        st.rerun()


with db() as session:
    late = overdue_actions(session, now)
st.markdown(f"#### {tr('capa.overdue_title')}")
if late:
    for a in late:
        st.warning(f"#{a['problem_id']} {md(a['problem'])} · {t('capa.kind.' + a['kind'], L)}：{md(a['text'])} · "
                   f"{md(a['owner'])} · {fmt_local(a['due_at'])} · {tr('capa.overdue_days', n=a['days'])}")
else:
    st.caption(tr("capa.overdue_none"))

st.markdown(f"#### {tr('capa.list_title')}")
show_closed = st.toggle(tr("capa.show_closed"), key="capa_show_closed")
with db() as session:
    rows = problems(session, () if show_closed else OPEN_STATES)
if editor:
    with st.expander(tr("capa.new"), expanded=not rows):
        n = st.session_state.get("capa_new_n", 0)  # a new number after a success empties the form; a refusal keeps it
        with st.form(f"capa_new_{n}"):
            title = st.text_input(tr("capa.title"), max_chars=200, key=f"capa_new_title_{n}")
            statement = st.text_area(tr("capa.statement"), max_chars=4000, key=f"capa_new_statement_{n}")
            owner = st.text_input(tr("capa.owner"), max_chars=80, key=f"capa_new_owner_{n}")
            cases = st.text_area(tr("capa.cases"), help=tr("capa.cases_help"), key=f"capa_new_cases_{n}")
            if st.form_submit_button(tr("capa.create"), type="primary"):
                try:
                    with db() as session:
                        new_id = create_problem(session, title, statement, owner, split_case_numbers(cases), actor(),
                                                role(), live)
                except ProblemRefused as exc:
                    st.error(tr("capa.refused", error=md(refusal(exc))))
                else:
                    st.session_state["capa_open"] = new_id
                    st.session_state["capa_new_n"] = n + 1
                    flash(tr("capa.created", id=new_id))
                    st.rerun()
if not rows:
    st.info(tr("capa.none"))
    st.stop()
picked = st.dataframe(problems_frame(rows, L), hide_index=True, width="stretch", on_select="rerun",
                      selection_mode="single-row", key="capa_table")
with db() as session:
    everything, actions_all = problems(session), all_actions(session)
st.download_button(tr("capa.xlsx"), register_xlsx(everything, actions_all, export_stamp(now, actor(), L), L),
                   file_name=export_name(tr("page.problems"), now, "xlsx"), key="capa_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
chosen = picked.selection.rows if picked else []
if chosen:
    st.session_state["capa_open"] = rows[chosen[0]]["id"]
open_id = st.session_state.get("capa_open")
if open_id not in {r["id"] for r in rows}:
    st.caption(tr("capa.pick"))
    st.stop()

with db() as session:
    p = problem_detail(session, open_id)
    subs = subcategories(session, p["scope_category"])
pid = p["id"]
st.divider()
st.markdown(f"### #{pid} {md(p['title'])} · :blue-badge[{tr('capa.state.' + p['state'])}]")
st.text(p["statement"])
pdf_key = f"capa_pdf_{pid}_{p['version']}"  # made on request (about a second: the embedded Chinese font)
if pdf_key not in st.session_state:
    if st.button(tr("capa.pdf_make"), key=f"capa_pdf_make_{pid}"):
        st.session_state[pdf_key] = problem_pdf(p, tr("export.stamp", when=fmt_local(now), user=actor()))
if pdf_key in st.session_state:
    st.download_button(tr("capa.pdf"), st.session_state[pdf_key], file_name=export_name(f"问题{pid}", now, "pdf"),
                       mime="application/pdf", key=f"capa_pdf_dl_{pid}")
if p["close_reason"]:
    st.caption(tr("capa.close_reason", reason=md(p["close_reason"])))

st.markdown(f"#### {tr('capa.linked')}")
if p["cases"]:
    st.dataframe([{tr("board.case"): c["case_no"], tr("col.received"): fmt_local(c["received_at"]),
                   tr("search.category"): label("category", c["category"], L), tr("lib.col.sub"): c["subcategory"] or "",
                   tr("search.handler"): c["handler"], tr("col.team"): c["team"] or ""} for c in p["cases"]],
                 hide_index=True, width="stretch")
    st.caption(tr("capa.teams") + "：" + md("、".join(f"{team or '—'}（{n}）" for team, n in p["teams"])))
if editor and p["state"] != "closed":
    with st.form(f"capa_link_{pid}_{p['version']}"):  # keyed by the version: emptied after a change, kept after a refusal
        more = st.text_area(tr("capa.cases"), help=tr("capa.cases_help"))
        c1, c2 = st.columns(2)
        add = c1.form_submit_button(tr("capa.link"))
        remove = c2.form_submit_button(tr("capa.unlink"))
    if add or remove:
        numbers = split_case_numbers(more)
        attempt(lambda s: link_cases(s, pid, numbers, actor(), role(), live, unlink=remove), tr("capa.saved"))

st.markdown(f"#### {tr('capa.analysis')}")
categories = list(ENUMS["category"])
if editor and p["state"] != "closed":
    with st.form(f"capa_analysis_{pid}_{p['version']}"):
        statement = st.text_area(tr("capa.statement"), value=p["statement"], max_chars=4000)
        owner = st.text_input(tr("capa.owner"), value=p["owner"], max_chars=80)
        c1, c2 = st.columns(2)
        scope_cat = c1.selectbox(tr("capa.scope_category"), categories,
                                 index=categories.index(p["scope_category"]) if p["scope_category"] in categories else 0,
                                 format_func=lambda v: label("category", v, L))
        scope_subs = c2.multiselect(tr("capa.scope_subs"), sorted(set(subs) | set(p["scope_subcategories"])),
                                    default=p["scope_subcategories"], placeholder=tr("common.choose"))
        causes = [None, *CAUSES]
        cause = st.selectbox(tr("capa.col.cause"), causes, index=causes.index(p["cause_category"]),
                             format_func=lambda v: t(f"capa.cause.{v or 'none'}", L))
        whys = [st.text_input(tr("capa.why", n=i + 1), value=(p["whys"][i] if i < len(p["whys"]) else ""), max_chars=500)
                for i in range(MAX_WHYS)]
        root = st.text_area(tr("capa.root_cause"), value=p["root_cause"], max_chars=4000)
        c3, c4 = st.columns(2)
        has_fix = c3.checkbox(tr("capa.has_fix"), value=p["fixed_at"] is not None)
        fixed_local = (p["fixed_at"] or now).astimezone(local_zone()).date()
        fix_day = c4.date_input(tr("capa.fixed_at"), value=fixed_local, **date_bounds())
        if st.form_submit_button(tr("capa.save"), type="primary"):
            fixed = local_day(fix_day) if has_fix else None
            attempt(lambda s: save_analysis(s, pid, p["version"], actor(), role(), live, statement=statement, owner=owner,
                                            cause_category=cause, root_cause=root, whys=whys, scope_category=scope_cat,
                                            scope_subcategories=scope_subs, fixed_at=fixed), tr("capa.saved"))
else:
    st.caption(f"{tr('capa.col.cause')}：{t('capa.cause.' + (p['cause_category'] or 'none'), L)}")
    for i, why in enumerate(p["whys"]):
        st.text(f"{tr('capa.why', n=i + 1)}：{why}")
    if p["root_cause"]:
        st.text(f"{tr('capa.root_cause')}：{p['root_cause']}")
    st.caption(f"{tr('capa.fixed_at')}：{fmt_local(p['fixed_at']) if p['fixed_at'] else '—'}")

st.markdown(f"#### {tr('capa.actions')}")
if p["actions"]:
    st.dataframe(actions_frame(p["actions"], L), hide_index=True, width="stretch")
else:
    st.caption(tr("capa.no_actions"))
if editor and p["state"] != "closed":
    with st.form(f"capa_action_{pid}_{p['version']}"):
        c1, c2, c3 = st.columns([1, 1, 1])
        kind = c1.selectbox(tr("capa.action_kind"), ACTION_KINDS, format_func=lambda v: t(f"capa.kind.{v}", L))
        who = c2.text_input(tr("capa.action_owner"), max_chars=80)
        due = c3.date_input(tr("capa.action_due"), value=now.astimezone(local_zone()).date() + timedelta(days=7),
                            **date_bounds())
        what = st.text_area(tr("capa.action_text"), max_chars=2000)
        if st.form_submit_button(tr("capa.action_add")):
            attempt(lambda s: add_action(s, pid, kind, what, who, local_day(due, end=True), actor(), role(), live),
                    tr("capa.action_added"))
    open_actions = [a for a in p["actions"] if a["state"] == "open"]
    if open_actions:
        with st.form(f"capa_action_update_{pid}_{p['version']}"):
            labels = {a["id"]: f"#{a['id']} {t('capa.kind.' + a['kind'], L)} · {a['text'][:40]}" for a in open_actions}
            which = st.selectbox(tr("capa.action_pick"), list(labels), format_func=labels.get)
            state = st.radio(tr("capa.action_state"), [s for s in ACTION_STATES if s != "open"], horizontal=True,
                             format_func=lambda v: t(f"capa.astate.{v}", L))
            evidence = st.text_area(tr("capa.evidence"), max_chars=2000)
            if st.form_submit_button(tr("capa.action_update")):
                attempt(lambda s: update_action(s, which, state, evidence, actor(), role(), live), tr("capa.saved"))

st.markdown(f"#### {tr('capa.checks')}")
st.caption(tr("capa.check_intro"))
if p["checks"]:
    st.dataframe(checks_frame(p["checks"], L), hide_index=True, width="stretch")
else:
    st.caption(tr("capa.no_checks"))
if editor and p["state"] in ("verifying", "not_effective"):
    with st.form(f"capa_check_{pid}_{p['version']}"):
        c1, c2 = st.columns(2)
        window = c1.number_input(tr("capa.window"), min_value=1, max_value=365, value=30, step=1)
        basis = c2.radio(tr("capa.basis"), BASES, horizontal=True, format_func=lambda v: t(f"capa.basis.{v}", L))
        if st.form_submit_button(tr("capa.run_check")):
            attempt(lambda s: check_effect(s, pid, int(window), basis, actor(), role(), live), tr("capa.saved"))

if editor and p["next_states"]:
    st.markdown(f"#### {tr('capa.move')}")
    with st.form(f"capa_move_{pid}_{p['version']}"):
        target = st.selectbox(tr("capa.move_to"), p["next_states"], format_func=lambda v: t(f"capa.state.{v}", L))
        reason = st.text_area(tr("capa.reason"), max_chars=2000)
        if st.form_submit_button(tr("capa.move"), type="primary"):
            attempt(lambda s: move(s, pid, p["version"], target, actor(), role(), live, reason=reason),
                    tr("capa.moved", state=t(f"capa.state.{target}", L)))
