"""Scorecards: every version of every card; admins save changes as a new version (old assessments keep
the version they were scored with)."""
from __future__ import annotations

import streamlit as st

from db.inspection import AssessmentRefused, ensure_default_scorecard, latest_scorecards, save_scorecard, scorecard_versions
from rules.catalogue import BY_ID
from domain.scorecard import ScorecardInvalid, with_item_keys
from domain.timeutil import fmt_local
from services.views import field_label, person, rule_title, scorecard_editor_frame, scorecard_view
from domain.vocab import CASE_COLUMNS
from db.users import display_names
from ui.auth import actor, allowed, guard
from ui.common import db, lang, md, refusal, tr

guard("scorecards")
L = lang()
st.title(tr("page.scorecards"))

with db() as session:
    ensure_default_scorecard(session)
    cards = latest_scorecards(session)
    names = display_names(session)
name = st.selectbox(tr("qa.card_name"), [c["name"] for c in cards], key="sc_name")
with db() as session:
    versions = scorecard_versions(session, name)
version = st.selectbox(tr("qa.card_version"), [v["version"] for v in versions], key="sc_version",
                       format_func=lambda v: next(f"v{x['version']} · {fmt_local(x['created_at'])} · {person(x['created_by'], names, L)}"
                                                  for x in versions if x["version"] == v))
card = next(v for v in versions if v["version"] == version)
st.caption(tr("qa.pass_mark_is", mark=f"{card['pass_mark']:g}"))


columns = {"key": tr("qa.sc.key"), "clause": tr("qa.col.clause"), "title_zh": tr("qa.sc.title_zh"),
           "title_en": tr("qa.sc.title_en"), "weight": tr("qa.sc.weight"), "critical": tr("qa.critical"),
           "rules": tr("qa.sc.rules"), "fields": tr("qa.sc.fields")}
if not allowed("edit_scorecard"):  # read-only: the items in the reader's language, rules by their titles
    st.dataframe(scorecard_view(card["items"], L), hide_index=True, width="stretch")
    st.stop()

st.caption(tr("qa.sc.help"))
edited = st.data_editor(scorecard_editor_frame(card["items"]), num_rows="dynamic", hide_index=True, width="stretch",
                        key=f"sc_editor_{name}_{version}",
                        column_order=[c for c in columns if c != "key"],  # item codes are kept, not typed
                        column_config={k: st.column_config.Column(label=v) for k, v in columns.items()}
                        | {"weight": st.column_config.NumberColumn(columns["weight"], min_value=0.1, step=1.0),
                           "critical": st.column_config.CheckboxColumn(columns["critical"]),
                           "rules": st.column_config.MultiselectColumn(columns["rules"], options=list(BY_ID),
                                                                       format_func=lambda r: rule_title(r, L)),
                           "fields": st.column_config.MultiselectColumn(columns["fields"], options=list(CASE_COLUMNS),
                                                                        format_func=lambda f: field_label(f, L))})
c1, c2, c3 = st.columns([2, 1, 1])
save_as = c1.text_input(tr("qa.sc.save_as"), value=name, key="sc_save_as")
mark = c2.number_input(tr("qa.sc.pass_mark"), min_value=0.0, max_value=100.0, value=float(card["pass_mark"]),
                       key="sc_pass_mark")
if c3.button(tr("qa.sc.save"), type="primary", key="sc_save"):
    try:
        with db() as session:
            saved = save_scorecard(session, save_as, with_item_keys(edited.to_dict("records")), mark, actor())
    except (ScorecardInvalid, AssessmentRefused) as exc:
        st.error(tr("qa.sc.invalid", error=md(refusal(exc))))
    else:
        st.success(tr("qa.sc.saved", name=saved["name"], version=saved["version"]))
