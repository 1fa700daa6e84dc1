"""Archive workflow (10.1.1): closed cases not yet archived, each with its records checklist; archive one
or many at once (the archive time feeds the rule engine)."""
from __future__ import annotations

import streamlit as st

from db.library import RECORD_RULES, LibraryRefused, archive_cases, archive_queue
from services.library_view import checklist_frame, rule_title
from ui.auth import actor, allowed, guard
from ui.common import as_of, confirmed, db, flash, lang, md, refusal, teams, tr

guard("archive")
L = lang()
now = as_of()
st.title(tr("page.archive"))
st.caption(tr("arc.intro", rules="、".join(rule_title(r, L) for r in RECORD_RULES)))

with db() as session:
    total, rows = archive_queue(session, now, teams())
if not rows:
    st.success(tr("arc.none"))
    st.stop()
ready = [r for r in rows if r["complete"]]
st.caption(tr("arc.count", total=total, shown=len(rows), ready=len(ready)))
frame = checklist_frame(rows, RECORD_RULES, L)
picked = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                      key="arc_table")
chosen = [rows[i] for i in (picked.selection.rows if picked else [])]
if not allowed("archive"):
    st.stop()
c1, c2 = st.columns(2)
if c1.button(tr("arc.archive_selected", n=len(chosen)), disabled=not chosen, type="primary", key="arc_selected"):
    targets = chosen
elif ready and confirmed(tr("arc.archive_ready", n=len(ready)), "arc_ready", tr("arc.confirm_all", n=len(ready))):
    targets = ready
else:
    targets = []
if targets:
    try:
        with db() as session:
            done = archive_cases(session, {r["case_no"]: r["version"] for r in targets}, actor())
    except LibraryRefused as exc:
        st.error(tr("arc.refused", error=md(refusal(exc))))
    else:
        flash(tr("arc.done", n=len(done)))
        st.rerun()
