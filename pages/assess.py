"""Quality inspection (6.3): an inspector's assigned cases, and one case beside the scorecard, pre-filled
with the rule engine's verdicts and evidence."""
from __future__ import annotations

import streamlit as st

from db.inspection import AssessmentRefused, StaleAssessment, assignments, load_item, save_assessment
from db.queries import case_obligations, case_record
from db.users import display_names
from rules.applies import applicable_checks
from domain.deid import scrub_text
from domain.privacy import mask_name, mask_phone
from domain.scorecard import VERDICTS, form_items, score
from domain.timeutil import fmt_local
from services.views import flag_detail, flags_table, person, rule_title
from domain.vocab import label
from ui.auth import actor, allowed, guard, role
from ui.common import as_of, db, flash, lang, md, refusal, tr

guard("assess")
L = lang()
now = as_of()
st.title(tr("page.assess"))

c1, c2 = st.columns(2)
everyone = c1.toggle(tr("qa.all_assignees"), key="assess_everyone")
only_open = c2.toggle(tr("qa.only_open"), value=True, key="assess_only_open")
with db() as session:
    rows = assignments(session, assignee=None if everyone else actor(), only_open=only_open)
    people = display_names(session)

if not rows:
    st.info(tr("qa.no_assignments"))
    if allowed("sample"):
        st.caption(tr("qa.go_sampling"))
ids = [r["id"] for r in rows]
labels = {r["id"]: f"{r['case_no']} · {r['plan']} · {people.get(r['assignee'], r['assignee']) or '—'}"
         + (f" · {r['score'] if r['score'] is not None else '—'}" if r["assessed_at"] else "") for r in rows}
listing = [{tr("qa.col.case_no"): r["case_no"], tr("qa.col.plan"): r["plan"],
            tr("qa.col.assignee"): people.get(r["assignee"], r["assignee"]),
            tr("qa.col.handler"): r["handler"], tr("qa.col.team"): r["team"] or "",
            tr("qa.col.category"): label("category", r["category"], L),
            tr("qa.col.score"): "—" if r["score"] is None else r["score"],
            tr("qa.assessed_at"): fmt_local(r["assessed_at"])} for r in rows]
if listing:
    st.dataframe(listing, hide_index=True, width="stretch", height=min(38 + 35 * len(listing), 300))

wanted = st.query_params.get("item")
if wanted and wanted.isdigit() and int(wanted) not in ids:
    ids = [int(wanted)] + ids
    labels[int(wanted)] = f"#{wanted}"
if not ids:
    st.stop()
start = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in ids else 0
item_id = st.selectbox(tr("qa.pick"), ids, index=start, format_func=lambda i: labels.get(i, str(i)), key="assess_item")
st.query_params["item"] = str(item_id)

with db() as session:
    item = load_item(session, item_id)
    record = case_record(session, item["case_no"]) if item else None
    obligations = case_obligations(session, record["id"], now) if record else []
if item is None or record is None:
    st.warning(tr("qa.no_item"))
    st.stop()

version_key = f"assess_version_{item_id}"
st.session_state.setdefault(version_key, item["version"])  # the version this form was opened with
card = item["scorecard"]
saved = item["assessment"]
st.subheader(md(f"{record['case_no']} · {label('category', record['category'], L)} · {record['subcategory'] or ''}"))
st.caption(tr("qa.card_used", name=card["name"], version=card["version"], mark=f"{card['pass_mark']:g}")
           + (" · " + tr("qa.saved_by", who=person(saved["inspector"], people, L), when=fmt_local(saved["assessed_at"])) if saved else ""))

left, right = st.columns([2, 3])
with left:
    st.markdown(f"#### {tr('qa.case')}")
    customer = [record["customer_name"]] if record["customer_name"] else []
    facts = {tr("qa.col.handler"): record["handler"], tr("qa.col.team"): record["team"] or "",
             tr("qa.customer"): f"{mask_name(record['customer_name'])} {mask_phone(record['customer_phone'])}",
             tr("qa.received"): fmt_local(record["received_at"]), tr("qa.closed"): fmt_local(record["closed_at"]),
             tr("qa.satisfaction"): label("satisfaction", record["satisfaction"], L)}
    st.dataframe([{tr("col.column"): k, tr("qa.value"): v} for k, v in facts.items()], hide_index=True, width="stretch")
    # the text an inspector must read, whole and wrapping (inspectors judge the handling, not the customer:
    # free text is shown de-identified)
    for key, field in (("qa.description", "description"), ("qa.true_reason", "true_reason"),
                       ("qa.demand", "customer_demand"), ("qa.decision", "decision")):
        text = scrub_text(record[field], customer)
        if text:
            with st.container(border=True):
                st.caption(tr(key))
                st.markdown(md(text))
    st.markdown(f"#### {tr('detail.timeline')}")
    contacts = [{tr("col.time"): fmt_local(c["contact_at"]), tr("col.kind"): label("contact_kind", c["kind"], L),
                 tr("col.note"): scrub_text(c["note"], customer)} for c in record["contacts"] if c["contact_at"] <= now]
    if contacts:
        st.dataframe(contacts, hide_index=True, width="stretch")
    else:
        st.caption(tr("detail.no_contacts"))
    st.markdown(f"#### {tr('detail.flags')}")
    flagged = flags_table(obligations, now, L)
    if flagged.empty:
        st.success(tr("detail.no_flags"))
    else:
        st.dataframe(flagged, hide_index=True, width="stretch")

verdict_names = {v: tr(f"qa.verdict.{v}") for v in VERDICTS}
with right:
    st.markdown(f"#### {tr('qa.scorecard')}")
    rows = form_items(card["items"], obligations, saved["items"] if saved else None,
                      lambda o: flag_detail(o, now, L), L, applicable_checks(record, now), lambda r: rule_title(r, L))
    verdicts, engine, evidence, reasons, comments = {}, {}, {}, {}, {}
    for it in rows:
        key = it["key"]
        with st.container(border=True):
            weight = tr("qa.weight", w=f"{float(it['weight']):g}")
            head = f"**{md(it['title'])}** · {it['clause']} · {weight}"
            st.markdown(head + (" · :red[" + tr("qa.critical") + "]" if it["critical"] else ""))
            if it["engine"] is not None:
                st.caption(tr("qa.engine_says", verdict=verdict_names[it["engine"]]) + (f" — {md(it['evidence'])}" if it["evidence"] else ""))
            elif it["evidence"]:
                st.caption(tr("qa.engine_unsure") + f" — {md(it['evidence'])}")
            elif it["rules"]:
                st.caption(tr("qa.engine_unsure"))
            else:
                st.caption(tr("qa.manual"))
            choice = st.radio(tr("qa.verdict"), list(VERDICTS), horizontal=True, key=f"as_{item_id}_{key}_v",
                              index=VERDICTS.index(it["initial"]) if it["initial"] else None,
                              format_func=lambda v: verdict_names[v], label_visibility="collapsed")
            if choice is not None:
                verdicts[key] = choice
            engine[key], evidence[key] = it["engine"], it["evidence"]
            if it["engine"] is not None and choice is not None and choice != it["engine"]:
                reasons[key] = st.text_input(tr("qa.override_reason"), value=it["reason"], key=f"as_{item_id}_{key}_r")
            comments[key] = st.text_input(tr("qa.item_comment"), value=it["comment"], key=f"as_{item_id}_{key}_c")
    comment = st.text_area(tr("qa.comment"), value=(saved or {}).get("comment") or "", key=f"as_{item_id}_comment")
    if len(verdicts) == len(rows):
        result = score(card["items"], verdicts, card["pass_mark"])
        shown = "—" if result.score is None else f"{result.score:g}"
        (st.success if result.passed else st.error)(
            tr("qa.total", score=shown, result=tr("qa.pass") if result.passed else tr("qa.fail"))
            + (" · " + tr("qa.critical_failed") if result.critical_failed else ""))
    else:
        st.info(tr("qa.pending", n=len(rows) - len(verdicts)))
    if allowed("assess") and st.button(tr("qa.save"), type="primary", key="assess_save",
                                       disabled=len(verdicts) != len(rows)):
        try:
            with db() as session:
                result = save_assessment(session, item_id, st.session_state[version_key], verdicts, engine, evidence,
                                         reasons, comments, comment, actor(), role=role())
        except StaleAssessment as exc:
            st.error(tr("qa.stale", error=md(refusal(exc))))
            st.session_state["assess_stale"] = item_id
        except AssessmentRefused as exc:
            st.error(tr("qa.refused", error=md(refusal(exc))))
        else:
            st.session_state.pop(version_key, None)
            flash(tr("qa.saved", score="—" if result.score is None else f"{result.score:g}"))
            st.rerun()
    failed_saved = [k for k, v in (saved["items"] if saved else {}).items() if v["verdict"] == "fail"]
    if saved and failed_saved and allowed("coach") and item["purpose"] == "regular" \
            and st.button(tr("qa.coach_from_here"), key="assess_coach"):
        st.switch_page("pages/coaching.py", query_params={"handler": record["handler"], "items": ",".join(failed_saved),
                                                          "assessment": str(saved["id"])})
    if st.session_state.get("assess_stale") == item_id and st.button(tr("qa.reload"), key="assess_reload"):
        # drop this form's inputs and the version it was opened with: the saved assessment shows instead
        for key in [k for k in st.session_state if str(k).startswith(f"as_{item_id}_")] + [version_key, "assess_stale"]:
            st.session_state.pop(key, None)
        st.rerun()
