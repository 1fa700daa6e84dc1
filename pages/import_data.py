"""Import: upload work-order exports, preview them, and see every problem by file, line and column."""
from __future__ import annotations

import hashlib

import streamlit as st

from db import interchange as ix
from db.importer import import_files
from db.profiles import list_profiles
from services.import_assist import masked_head
from services.views import dry_changes_table, dry_flags_table, problems_table
from domain.vocab import CASE_COLUMNS, CONTACT_COLUMNS
from ui.auth import actor, allowed, guard
from domain.i18n import t, told
from ui.common import db, db_errors, lang, md, tr

guard("import")

L = lang()
st.title(tr("page.import"))
st.caption(tr("import.intro"))

with db() as session:
    profiles = {p.profile.name: p.profile for p in list_profiles(session)}
chosen = st.selectbox(tr("import.profile"), ["", *profiles], key="import_profile",
                      format_func=lambda n: n or t("import.own_format", L))
profile = profiles.get(chosen)

cases_file = st.file_uploader(tr("import.cases"), type=["csv", "xlsx"], key="import_cases")
contacts_file = st.file_uploader(tr("import.contacts"), type=["csv", "xlsx"], key="import_contacts")
st.caption(tr("upload.limit", mb=ix.MAX_UPLOAD_BYTES // (1024 * 1024), types="CSV / XLSX"))
partial = st.checkbox(tr("import.partial"), key="import_partial")

def preview(upload, columns, kind: str) -> tuple[object, str | None, bool]:
    """Parse an upload once (kept per file content and profile in the session), not again on every rerun;
    the flag says the file is not in the product's format at all (no required column found)."""
    key = "import_preview_" + hashlib.sha256(upload.getvalue() + repr(profile).encode()).hexdigest()
    if key not in st.session_state:
        try:
            if profile is None:
                table = ix.read_table(upload.getvalue(), upload.name, columns)
            elif kind == "contacts" and profile.contacts_mode != "file":
                raise ix.FileProblem(upload.name, "ix.profile_no_contacts_file", profile=profile.name)
            else:
                table = ix.read_profiled(upload.getvalue(), upload.name, profile, kind)
            st.session_state[key] = (masked_head(table.frame), None, False)
        except ix.FileProblem as exc:
            st.session_state[key] = (None, exc.text(L), profile is None and exc.said.key == "ix.missing_columns")
    return st.session_state[key]


for upload, columns, kind in ((cases_file, CASE_COLUMNS, "cases"), (contacts_file, CONTACT_COLUMNS, "contacts")):
    if upload is None:
        continue
    head, problem, foreign = preview(upload, columns, kind)
    if problem:
        st.error(md(problem))
        if foreign:
            st.info(tr("import.foreign_hint"))
            st.page_link("pages/import_profiles.py", label=tr("page.profiles"), icon=":material/schema:")
        continue
    with st.expander(f"{tr('import.preview')} · {md(upload.name)}", expanded=False):
        st.dataframe(head, hide_index=True, width="stretch")

b1, b2 = st.columns([1, 1])
if b2.button(tr("import.dry_run"), key="import_dry_run", help=tr("import.dry_run_help")):
    if not allowed("import"):
        st.error(tr("auth.forbidden"))
        st.stop()
    if cases_file is None and contacts_file is None:
        st.warning(tr("import.need_cases"))
        st.stop()
    with db_errors(), st.spinner(tr("import.dry_running")):
        dry = import_files(cases_file.getvalue() if cases_file else None,
                           contacts_file.getvalue() if contacts_file else None, partial=partial,
                           cases_name=cases_file.name if cases_file else None,
                           contacts_name=contacts_file.name if contacts_file else None, actor=actor(), lang=L,
                           dry_run=True, profile=profile)
    st.info(tr("import.dry_summary", added=dry.cases_added, changed=dry.cases_updated, same=dry.cases_unchanged,
               contacts=dry.contacts_added, problems=len(dry.problems), appear=len(dry.flags_appear),
               clear=len(dry.flags_clear)))
    if dry.problems and not dry.cases_added + dry.cases_updated + dry.contacts_added:
        st.warning(tr("import.dry_refused"))
    if dry.changed_fields:
        st.markdown(f"#### {tr('import.dry_changed')}")
        st.dataframe(dry_changes_table(dry, L), hide_index=True, width="stretch")
    if dry.flags_appear or dry.flags_clear:
        st.markdown(f"#### {tr('import.dry_flags')}")
        st.dataframe(dry_flags_table(dry, L), hide_index=True, width="stretch")
    if dry.problems:
        st.markdown(f"#### {tr('import.problems')}")
        st.dataframe(problems_table(dry.problems, L), hide_index=True, width="stretch")
if b1.button(tr("import.run"), type="primary", key="import_run"):
    if not allowed("import"):
        st.error(tr("auth.forbidden"))
        st.stop()
    if cases_file is None and contacts_file is None:
        st.warning(tr("import.need_cases"))
        st.stop()
    bar = st.progress(0.0)
    with db_errors():
        report = import_files(
            cases_file.getvalue() if cases_file else None,
            contacts_file.getvalue() if contacts_file else None,
            partial=partial,
            cases_name=cases_file.name if cases_file else None,
            contacts_name=contacts_file.name if contacts_file else None,
            progress=lambda stage, frac: bar.progress(frac, text=tr("import.stage", stage=tr(f"import.stage.{stage}"))),
            actor=actor(),
            lang=L,
            profile=profile,
        )
    if report.written:
        st.success(tr("import.done", added=report.cases_added, updated=report.cases_updated,
                      contacts=report.contacts_added))
    if report.problems:
        if report.written:
            st.warning(tr("import.partial_done", n=len(report.problems)))
        else:
            st.error(tr("import.refused", n=len(report.problems)))
        st.markdown(f"#### {tr('import.problems')}")
        st.dataframe(problems_table(report.problems, L), hide_index=True, width="stretch")
    for name, data in report.reject_downloads:  # kept in memory only: no customer data left on disk
        st.download_button(tr("import.download_rejects", name=name), data, file_name=name,
                           mime="text/csv", key=f"import_dl_{name}")
    if report.warnings:
        st.markdown(f"#### {tr('import.warnings')}")
        for w in report.warnings:
            st.text(told(w, L))  # header names come from the file: shown as plain text, never as Markdown
    st.cache_data.clear()
