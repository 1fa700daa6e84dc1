"""Import profiles (#21): map another work-order system's export once, with the assistant, and import it
by name from then on; profiles are versioned, audited and exported as YAML."""
from __future__ import annotations

import hashlib

import streamlit as st

from db.profiles import (ProfileRefused, delete_profile, list_profiles, restore_version, save_profile,
                         versions)
from db.users import display_names
from domain.i18n import t
from domain.importprofile import (ENCODINGS, MAX_HEADER_ROW, SEPARATORS, TIME_PATTERNS, ProfileError, example,
                                  from_yaml, to_yaml)
from domain.timeutil import fmt_local
from services.import_assist import (assist, fresh, draft_profile, enum_of, mapping_frame, preview, profile_table,
                                    target_labels, targets_from_frame, value_frame, value_labels, values_from_frame)
from services.views import field_label, person, problems_table
from ui.auth import actor, allowed, guard, role
from ui.common import confirmed, db, flash, lang, md, refusal, tr

guard("profiles")
L = lang()
st.title(tr("page.profiles"))
st.caption(tr("prof.intro"))

with db() as session:
    stored = {p.profile.name: p for p in list_profiles(session)}
    people = display_names(session)
ZONES = ["Asia/Shanghai", "UTC", "Asia/Hong_Kong", "Asia/Urumqi"]
may_edit = allowed("edit_import_profile")

assist_tab, list_tab, yaml_tab = st.tabs([tr("prof.tab.assist"), tr("prof.tab.list"), tr("prof.tab.yaml")])


def _digest(upload) -> str:
    return hashlib.sha256(upload.getvalue()).hexdigest()[:16]


def _found(upload, kind: str, shape: dict):
    """The assistant's reading of an upload, kept per file content and shape settings."""
    raw = upload.getvalue()
    key = "prof_found_" + hashlib.sha256(raw + repr((kind, sorted(shape.items()))).encode()).hexdigest()
    if key not in st.session_state:
        st.session_state[key] = assist(raw, upload.name, kind, L, **shape)
    # each run edits its own copy of the proposal: the editors start from the assistant's proposal and
    # apply the user's edits on top, run after run
    return fresh(st.session_state[key]), key


def _shape_controls(found, prefix: str) -> dict:
    """Separator, encoding, header row and sheet as the assistant guessed them, for the user to correct."""
    layout = found.layout
    with st.expander(tr("prof.shape"), expanded=False):
        c1, c2, c3, c4 = st.columns(4)
        seps = [s for s in SEPARATORS if s != "auto"]
        sep = c1.selectbox(tr("prof.separator"), seps, index=seps.index(layout.separator) if layout.separator in seps
                           else 0, format_func=lambda s: t(f"prof.sep.{SEPARATORS[s]}", L), key=f"{prefix}_sep")
        enc = c2.selectbox(tr("prof.encoding"), ENCODINGS, index=ENCODINGS.index(layout.encoding),
                           format_func=lambda e: t("prof.enc.auto", L) if e == "auto" else e.upper(), key=f"{prefix}_enc")
        head = c3.number_input(tr("prof.header_row"), 1, MAX_HEADER_ROW, int(layout.header_row), key=f"{prefix}_head")
        sheet = c4.text_input(tr("prof.sheet"), layout.sheet or "", key=f"{prefix}_sheet", help=tr("prof.sheet_help"))
    shape = {"separator": sep, "encoding": enc, "header_row": int(head), "sheet": sheet.strip() or None}
    same = (shape["separator"], shape["encoding"], shape["header_row"], shape["sheet"]) == \
        (layout.separator, layout.encoding, layout.header_row, layout.sheet)
    return {} if same else shape


def _mapping_editor(found, prefix: str) -> None:
    labels = target_labels(found.kind, L)
    edited = st.data_editor(
        mapping_frame(found.proposal, L), hide_index=True, width="stretch", key=f"{prefix}_map",
        disabled=["column", "samples", "why"],
        column_config={"column": st.column_config.TextColumn(tr("prof.col.column")),
                       "samples": st.column_config.TextColumn(tr("prof.col.samples")),
                       "target": st.column_config.SelectboxColumn(tr("prof.col.target"), options=list(labels.values()),
                                                                  required=True),
                       "why": st.column_config.TextColumn(tr("prof.col.why"))})
    targets = targets_from_frame(edited, found.kind, L)
    if targets != {h: found.proposal.targets.get(h, "") for h in found.proposal.headers}:
        found.retarget(targets)


def _value_editors(found, prefix: str) -> None:
    p = found.proposal
    for f in [f for f in p.distinct if p.distinct[f]]:
        name = field_label(f, L) if found.kind == "cases" else f
        unknown = p.unknown_values.get(f, [])
        title = tr("prof.values_of", field=name) + (f" · {tr('prof.unknown_n', n=len(unknown))}" if unknown else "")
        with st.expander(title, expanded=bool(unknown)):
            if unknown:
                st.warning(tr("prof.unknown_values", values="、".join(unknown)))
            options = [""] + list(value_labels(enum_of(f, found.kind), L).values())
            edited = st.data_editor(value_frame(p, f, L), hide_index=True, width="stretch", key=f"{prefix}_val_{f}",
                                    disabled=["value"],
                                    column_config={"value": st.column_config.TextColumn(tr("prof.col.value")),
                                                   "means": st.column_config.SelectboxColumn(tr("prof.col.means"),
                                                                                             options=options)})
            p.values[f] = values_from_frame(edited, f, found.kind, L)
            p.unknown_values[f] = [v for v in unknown if v not in p.values[f]]


with assist_tab:
    st.caption(tr("prof.assist_intro"))
    sample = st.file_uploader(tr("prof.sample"), type=["csv", "xlsx", "txt"], key="prof_sample")
    contacts_sample = st.file_uploader(tr("prof.sample_contacts"), type=["csv", "xlsx", "txt"],
                                       key="prof_sample_contacts", help=tr("prof.sample_contacts_help"))
    if sample is None:
        st.info(tr("prof.upload_first"))
    else:
        # every widget is keyed by the file (its shape settings) and by the file and shape (its editors):
        # another file, or another header row, starts from its own proposal, not from the last one's edits
        digest = _digest(sample)
        shape = st.session_state.get(f"prof_shape_{digest}", {})
        found, fkey = _found(sample, "cases", shape)
        edits = fkey[-16:]
        if found.problem:
            st.error(md(found.problem))
        else:
            chosen = _shape_controls(found, f"prof_cases_{digest}")
            if chosen and chosen != shape:  # read the file again with the corrected shape
                st.session_state[f"prof_shape_{digest}"] = chosen
                st.rerun()
            st.markdown(f"#### {tr('prof.mapping')}")
            st.caption(tr("prof.mapping_help", rows=found.rows, columns=len(found.proposal.headers)))
            _mapping_editor(found, f"prof_cases_{edits}")
            contacts_found = None
            cedits = ""
            if contacts_sample is not None:
                cdigest = _digest(contacts_sample)
                cshape = st.session_state.get(f"prof_shape_{cdigest}", {})
                contacts_found, ckey = _found(contacts_sample, "contacts", cshape)
                cedits = ckey[-16:]
                if contacts_found.problem:
                    st.error(md(contacts_found.problem))
                    contacts_found = None
                else:
                    st.markdown(f"#### {tr('prof.mapping_contacts')}")
                    cchosen = _shape_controls(contacts_found, f"prof_contacts_{cdigest}")
                    if cchosen and cchosen != cshape:
                        st.session_state[f"prof_shape_{cdigest}"] = cchosen
                        st.rerun()
                    _mapping_editor(contacts_found, f"prof_contacts_{cedits}")
            st.markdown(f"#### {tr('prof.times')}")
            detected = list(found.proposal.time_formats) + [
                f for f in (contacts_found.proposal.time_formats if contacts_found else []) if f not in
                found.proposal.time_formats]
            t1, t2, t3 = st.columns([3, 1, 1])
            formats = t1.multiselect(tr("prof.time_formats"), list(dict.fromkeys(detected + list(TIME_PATTERNS))),
                                     default=detected, key=f"prof_formats_{'|'.join(detected)}",
                                     help=tr("prof.time_formats_help"), placeholder=tr("prof.iso_only"),
                                     format_func=example)
            excel = t2.checkbox(tr("prof.excel_serial"), value=found.proposal.excel_serial or bool(
                contacts_found and contacts_found.proposal.excel_serial), key="prof_excel",
                help=tr("prof.excel_serial_help"))
            zone = t3.selectbox(tr("prof.zone"), ZONES, key="prof_zone",
                                format_func=lambda z: t(f"prof.zone.{z.replace('/', '_')}", L))
            channel = None
            if contacts_found is None and found.proposal.contact_columns():
                channels = ["", "phone", "sms", "face_to_face", "online", "letter"]
                channel = st.selectbox(tr("prof.contact_channel"), channels, index=1, key="prof_channel",
                                       format_func=lambda c: t("prof.channel_none", L) if not c else
                                       value_labels("contact_channel", L)[c]) or None
            if found.proposal.distinct or (contacts_found and contacts_found.proposal.distinct):
                st.markdown(f"#### {tr('prof.values')}")
                _value_editors(found, f"prof_cases_{edits}")
                if contacts_found:
                    _value_editors(contacts_found, f"prof_contacts_{cedits}")
            st.markdown(f"#### {tr('prof.preview')}")
            missing = found.proposal.missing() + (contacts_found.proposal.missing() if contacts_found else [])
            draft = None
            if missing:
                st.error(tr("prof.missing", fields="、".join(field_label(f, L) for f in dict.fromkeys(missing))))
            else:
                try:
                    draft = draft_profile(found, "draft", zone=zone, time_formats=formats, excel_serial=excel,
                                          contacts=contacts_found, contact_channel=channel)
                except ProfileError as exc:
                    st.error(md(exc.text(L)))
            if draft is not None:
                shown, problems, derived = preview(sample.getvalue(), sample.name, draft, "cases", L)
                st.dataframe(shown, hide_index=True, width="stretch")
                if derived is not None and not derived.empty:
                    st.caption(tr("prof.preview_contacts"))
                    st.dataframe(derived, hide_index=True, width="stretch")
                if contacts_found is not None:
                    cshown, cproblems, _ = preview(contacts_sample.getvalue(), contacts_sample.name, draft, "contacts", L)
                    st.caption(tr("prof.preview_contacts"))
                    st.dataframe(cshown, hide_index=True, width="stretch")
                    problems += cproblems
                if problems:
                    st.warning(tr("prof.preview_problems", n=len(problems)))
                    st.dataframe(problems_table(problems, L), hide_index=True, width="stretch")
                else:
                    st.success(tr("prof.preview_ok"))
                st.markdown(f"#### {tr('prof.save')}")
                n1, n2 = st.columns([1, 2])
                name = n1.text_input(tr("prof.name"), key="prof_name", max_chars=80)
                note = n2.text_input(tr("prof.note"), key="prof_note", max_chars=500)
                replace = False
                if name.strip() in stored:
                    replace = st.checkbox(tr("prof.replace", name=name.strip(), version=stored[name.strip()].version),
                                          key="prof_replace")
                if not may_edit:
                    st.info(tr("prof.read_only"))
                elif st.button(tr("prof.save_button"), type="primary", key="prof_save"):
                    try:
                        profile = draft_profile(found, name.strip(), zone=zone, time_formats=formats,
                                                excel_serial=excel, contacts=contacts_found, contact_channel=channel)
                        with db() as session:
                            version = save_profile(session, profile, actor=actor(), role=role(), note=note,
                                                   expected_version=stored[name.strip()].version if replace else None)
                    except ProfileError as exc:
                        st.error(md(exc.text(L)))
                    except ProfileRefused as exc:
                        st.error(md(refusal(exc)))
                    except PermissionError:
                        st.error(tr("auth.forbidden"))
                    else:
                        flash(tr("prof.saved", name=name.strip(), version=version))
                        st.rerun()

with list_tab:
    if not stored:
        st.info(tr("prof.none_yet"))
    else:
        chosen = st.selectbox(tr("prof.choose"), list(stored), key="prof_chosen")
        current = stored[chosen]
        p = current.profile
        st.caption(tr("prof.summary", version=current.version, by=person(current.updated_by, people, L),
                      at=fmt_local(current.updated_at), mode=tr(f"prof.mode.{p.contacts_mode}")))
        if p.description:
            st.text(p.description)
        st.dataframe(profile_table(p, L), hide_index=True, width="stretch",
                     column_config={"field": tr("prof.col.field"), "source": tr("prof.col.source"),
                                    "values": tr("prof.col.values")})
        if p.contacts_mode == "file":
            st.caption(tr("prof.contacts_file"))
            st.dataframe(profile_table(p, L, "contacts"), hide_index=True, width="stretch",
                         column_config={"field": tr("prof.col.field"), "source": tr("prof.col.source"),
                                        "values": tr("prof.col.values")})
        text = to_yaml(p, current.version)
        st.download_button(tr("prof.export"), text.encode("utf-8"), file_name=f"{chosen}.yaml",
                           mime="application/x-yaml", key="prof_export")
        with st.expander(tr("prof.edit_yaml"), expanded=False):
            edited = st.text_area(tr("prof.yaml"), text, height=420, key=f"prof_yaml_{chosen}_{current.version}")
            why = st.text_input(tr("prof.note"), key=f"prof_yaml_note_{chosen}", max_chars=500)
            if may_edit and st.button(tr("prof.save_version"), key="prof_yaml_save"):
                try:
                    profile = from_yaml(edited)
                    if profile.name != chosen:
                        raise ProfileRefused(tr("prof.rename_refused"))
                    with db() as session:
                        version = save_profile(session, profile, actor=actor(), role=role(), note=why,
                                               expected_version=current.version)
                except ProfileError as exc:
                    st.error(md(exc.text(L)))
                except ProfileRefused as exc:
                    st.error(md(refusal(exc)))
                except PermissionError:
                    st.error(tr("auth.forbidden"))
                else:
                    flash(tr("prof.saved", name=chosen, version=version))
                    st.rerun()
        with db() as session:
            history = versions(session, chosen)
        st.markdown(f"#### {tr('prof.history')}")
        st.dataframe([{tr("prof.col.version"): v.version, tr("prof.col.saved_by"): person(v.saved_by, people, L),
                       tr("prof.col.saved_at"): fmt_local(v.saved_at), tr("prof.col.note"): v.note}
                      for v in history], hide_index=True, width="stretch")
        older = [v.version for v in history if v.version != current.version]
        if may_edit and older:
            r1, r2 = st.columns([1, 3])
            back = r1.selectbox(tr("prof.restore_which"), older, key=f"prof_restore_{chosen}")
            if r2.button(tr("prof.restore"), key="prof_restore_go"):
                try:
                    with db() as session:
                        version = restore_version(session, chosen, back, actor=actor(), role=role(),
                                                  expected_version=current.version)
                except ProfileRefused as exc:
                    st.error(md(refusal(exc)))
                except PermissionError:
                    st.error(tr("auth.forbidden"))
                else:
                    flash(tr("prof.restored", name=chosen, old=back, version=version))
                    st.rerun()
        if allowed("delete_import_profile") and confirmed(tr("prof.delete"), "prof_delete",
                                                          tr("prof.delete_confirm", name=chosen)):
            try:
                with db() as session:
                    delete_profile(session, chosen, actor=actor(), role=role())
            except ProfileRefused as exc:
                st.error(md(refusal(exc)))
            except PermissionError:
                st.error(tr("auth.forbidden"))
            else:
                flash(tr("prof.deleted", name=chosen))
                st.rerun()

with yaml_tab:
    st.caption(tr("prof.yaml_intro"))
    doc = st.file_uploader(tr("prof.yaml_file"), type=["yaml", "yml"], key="prof_yaml_upload")
    if doc is not None:
        try:
            loaded = from_yaml(doc.getvalue().decode("utf-8-sig"))
        except UnicodeDecodeError:
            st.error(tr("prof.not_utf8"))
            loaded = None
        except ProfileError as exc:
            st.error(md(f"{doc.name}: {exc.text(L)}"))
            loaded = None
        if loaded is not None:
            st.dataframe(profile_table(loaded, L), hide_index=True, width="stretch",
                         column_config={"field": tr("prof.col.field"), "source": tr("prof.col.source"),
                                        "values": tr("prof.col.values")})
            exists = loaded.name in stored
            st.caption(tr("prof.yaml_will_replace", name=loaded.name, version=stored[loaded.name].version)
                       if exists else tr("prof.yaml_will_create", name=loaded.name))
            if may_edit and st.button(tr("prof.yaml_save"), key="prof_yaml_import", type="primary"):
                try:
                    with db() as session:
                        version = save_profile(session, loaded, actor=actor(), role=role(), note=doc.name,
                                               expected_version=stored[loaded.name].version if exists else None)
                except ProfileRefused as exc:
                    st.error(md(refusal(exc)))
                except PermissionError:
                    st.error(tr("auth.forbidden"))
                else:
                    flash(tr("prof.saved", name=loaded.name, version=version))
                    st.rerun()
