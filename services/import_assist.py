"""What the import-profile page shows and reads back, without Streamlit: the assistant's proposal as an
editable table, value maps as tables, a preview of the first rows mapped, and a profile as a table.

    found = assist(raw_bytes, "工单导出.csv")            # shape, columns, proposal
    frame = mapping_frame(found.proposal, "zh")          # for st.data_editor
    found.proposal.targets = targets_from_frame(edited, "zh")
    profile = draft_profile(found, "省客服系统", ...)
    table, problems = preview(raw_bytes, "工单导出.csv", profile)
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from db import interchange as ix
from domain.i18n import t
from domain.importprofile import Layout, Profile
from domain.mapping import CONTACT_KINDS, NONE, Proposal, profile_from, propose, refine
from domain.privacy import mask_name, mask_phone
from domain.vocab import CASE_COLUMNS, CONTACT_COLUMNS, ENUMS, FALSE_WORDS, TRUE_WORDS, label
from services.views import field_label

PREVIEW_ROWS = 10
ASSIST_ROWS = 20_000


@dataclass
class Assisted:
    kind: str
    layout: Layout  # separator, encoding, header row, sheet (fields empty)
    proposal: Proposal
    rows: int
    problem: str | None = None  # a file that cannot be read: the reason, in words
    columns_of: dict[str, list[str]] = field(default_factory=dict)  # header -> every cell as text

    def retarget(self, targets: dict[str, str]) -> None:
        """Take the user's choice of targets and work out time patterns and value maps for them again."""
        self.proposal.targets = {h: targets.get(h, NONE) for h in self.proposal.headers}
        refine(self.proposal, self.columns_of)


def assist(raw: bytes, name: str, kind: str = "cases", lang: str = "zh", *, separator: str | None = None,
           encoding: str | None = None, header_row: int | None = None, sheet: str | None = None) -> Assisted:
    """Read an unknown export (its shape guessed unless given) and propose how its columns map."""
    empty = Proposal(kind=kind, headers=[], samples={}, targets={}, reasons={})
    try:
        sep, enc, head, sh = ix.sniff_layout(raw, name)
        layout = Layout(separator=separator or sep, encoding=encoding or enc, header_row=header_row or head,
                        sheet=sheet if sheet is not None else sh)
        frame, _ = ix.read_frame(raw, name, separator=layout.separator, encoding=layout.encoding,
                                 header_row=layout.header_row, sheet=layout.sheet)
    except ix.FileProblem as exc:
        return Assisted(kind, Layout(), empty, 0, exc.text(lang))
    headers = [str(c) for c in frame.columns if str(c).strip()]
    # the proposal reads the first ASSIST_ROWS rows (kept in the page's session): a value that first appears
    # further down is refused by the import naming it, and its spelling can then be added to the map
    columns_of = {h: frame[h].head(ASSIST_ROWS).astype(str).tolist() for h in headers}
    return Assisted(kind, layout, propose(headers, columns_of, kind), len(frame), columns_of=columns_of)


def fresh(found: Assisted) -> Assisted:
    """A copy whose proposal can be changed without touching the original (the file's cells are shared)."""
    return replace(found, proposal=copy.deepcopy(found.proposal))


def target_labels(kind: str, lang: str = "zh") -> dict[str, str]:
    """Every target a column may have, in words (the first: not imported)."""
    out = {NONE: t("prof.target.none", lang)}
    if kind == "cases":
        for f, (_zh, _type, req) in CASE_COLUMNS.items():
            out[f] = field_label(f, lang) + (" *" if req else "")
        for k in CONTACT_KINDS:
            out[f"contact:{k}"] = t("prof.target.contact", lang, kind=label("contact_kind", k, lang))
            out[f"note:{k}"] = t("prof.target.note", lang, kind=label("contact_kind", k, lang))
    else:
        for f, (zh, _type, req) in CONTACT_COLUMNS.items():
            out[f] = (zh if lang == "zh" else f.replace("_", " ")) + (" *" if req else "")
    return out


_MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")


def _masked_samples(p: Proposal, header: str) -> list[str]:
    """Sample values as the page may show them: customers' names and numbers masked (the file is
    uploaded for its shape; nobody needs its customers to map it)."""
    target = p.targets.get(header, NONE)
    out = []
    for v in p.samples.get(header, []):
        if target == "customer_name":
            v = mask_name(v)
        elif target == "customer_phone" or _MOBILE.match(v.replace(" ", "").replace("-", "")):
            v = mask_phone(v)
        out.append(v)
    return out


def mapping_frame(p: Proposal, lang: str = "zh") -> pd.DataFrame:
    labels = target_labels(p.kind, lang)
    return pd.DataFrame([{"column": h, "samples": " | ".join(_masked_samples(p, h)),
                          "target": labels[p.targets.get(h, NONE)], "why": p.reasons[h].text(lang)
                          if h in p.reasons else ""} for h in p.headers],
                        columns=["column", "samples", "target", "why"])


def targets_from_frame(frame: pd.DataFrame, kind: str, lang: str = "zh") -> dict[str, str]:
    by_label = {v: k for k, v in target_labels(kind, lang).items()}
    return {str(r["column"]): by_label.get(str(r["target"] or ""), NONE) for r in frame.to_dict("records")}


def enum_of(field_name: str, kind: str) -> str:
    return (CASE_COLUMNS if kind == "cases" else CONTACT_COLUMNS)[field_name][1]


def value_labels(enum: str, lang: str = "zh") -> dict[str, str]:
    if enum == "bool":
        return {"true": t("prof.value.true", lang), "false": t("prof.value.false", lang)}
    return {v: label(enum, v, lang) for v in ENUMS[enum]}


def value_frame(p: Proposal, field_name: str, lang: str = "zh") -> pd.DataFrame:
    """The file's distinct values of one enumerated field with the product value each stands for (blank:
    the reader takes it as it is, when it is already the product's spelling, or refuses it)."""
    labels = value_labels(enum_of(field_name, p.kind), lang)
    table = p.values.get(field_name, {})
    return pd.DataFrame([{"value": v, "means": labels.get(table.get(v, ""), "")}
                         for v in p.distinct.get(field_name, [])], columns=["value", "means"])


def values_from_frame(frame: pd.DataFrame, field_name: str, kind: str, lang: str = "zh") -> dict[str, str]:
    by_label = {v: k for k, v in value_labels(enum_of(field_name, kind), lang).items()}
    return {str(r["value"]): by_label[str(r["means"])] for r in frame.to_dict("records")
            if str(r.get("means") or "") in by_label}


def draft_profile(found: Assisted, name: str, *, zone: str, time_formats: list[str], excel_serial: bool,
                  contacts: Assisted | None = None, contact_channel: str | None = "phone",
                  description: str = "") -> Profile:
    """The profile the page's settings describe (raises `ProfileError` naming what is missing)."""
    found.proposal.time_formats = list(time_formats)
    found.proposal.excel_serial = excel_serial
    return profile_from(found.proposal, name, found.layout, zone=zone,
                        contacts=contacts.proposal if contacts else None,
                        contacts_layout=contacts.layout if contacts else None, contact_channel=contact_channel,
                        description=description)


def preview(raw: bytes, name: str, profile: Profile, kind: str = "cases", lang: str = "zh",
            rows: int = PREVIEW_ROWS) -> tuple[pd.DataFrame, list[Any], pd.DataFrame | None]:
    """The first rows as the import would read them (field names as headers, values after the value maps
    and time patterns), the problems those rows would have, and the contacts taken from columns."""
    try:
        table = ix.read_profiled(raw, name, profile, kind)
    except ix.FileProblem as exc:
        return pd.DataFrame(), [ix.Problem(name, 0, "", exc.said)], None
    table.frame = table.frame.head(rows)
    table.source = table.source.head(rows) if table.source is not None else None
    columns = CASE_COLUMNS if kind == "cases" else CONTACT_COLUMNS
    parsed = ix.parse_rows(table, columns, profile.tz)
    shown = _in_words(table.frame, columns, lang).rename(columns={c: field_label(c, lang) if kind == "cases" else
                                        (columns[c][0] if lang == "zh" else c) for c in table.frame.columns})
    contacts = None
    problems = list(parsed.problems)
    if kind == "cases" and profile.contacts_mode == "columns":
        derived = ix.contacts_in_columns(table, profile)
        cparsed = ix.parse_rows(derived, CONTACT_COLUMNS, profile.tz)
        problems += cparsed.problems
        contacts = _in_words(derived.frame, CONTACT_COLUMNS, lang).rename(
            columns={c: CONTACT_COLUMNS[c][0] if lang == "zh" else c.replace("_", " ") for c in derived.frame.columns})
    problems.sort(key=lambda p: p.line)
    return shown, problems, contacts


def masked_head(frame: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    """The first rows of a file read for the import page's preview, customers' names and numbers masked:
    the preview is there to check the file's shape, not to read its customers."""
    out = frame.head(rows).copy()
    if "customer_name" in out.columns:
        out["customer_name"] = [mask_name(v) for v in out["customer_name"]]
    if "customer_phone" in out.columns:
        out["customer_phone"] = [mask_phone(v) for v in out["customer_phone"]]
    return out


def _in_words(frame: pd.DataFrame, columns: dict, lang: str) -> pd.DataFrame:
    """The preview as people read it: product values in words, personal data masked; a value the import
    would refuse is shown as the file has it (the problems list says why)."""
    out = frame.copy()
    for c in out.columns:
        kind = columns[c][1]
        if c == "customer_name":
            out[c] = [mask_name(v) for v in out[c]]
        elif c == "customer_phone":
            out[c] = [mask_phone(v) for v in out[c]]
        elif kind in ENUMS:
            out[c] = [label(kind, v, lang) if v in ENUMS[kind] else v for v in out[c]]
        elif kind == "bool":
            words = {w: t("prof.value.true", lang) for w in TRUE_WORDS} | {w: t("prof.value.false", lang)
                                                                           for w in FALSE_WORDS}
            out[c] = [words.get(str(v).lower(), v) for v in out[c]]
    return out


def profile_table(profile: Profile, lang: str = "zh", kind: str = "cases") -> pd.DataFrame:
    """A profile's mapping as people read it: field, where it comes from, the value map."""
    layout = profile.layout(kind)
    rows = []
    for f, src in layout.fields.items():
        origin = (t("prof.constant", lang, value=src.constant) if src.constant is not None
                  else f" {src.joiner} ".join(src.columns) if len(src.columns) > 1 and src.joiner.strip()
                  else " + ".join(src.columns))
        enum = enum_of(f, kind)
        labels = value_labels(enum, lang) if enum in ENUMS or enum == "bool" else {}
        values = "；".join(f"{k} → {labels.get(v, v)}" for k, v in layout.values.get(f, {}).items())
        rows.append({"field": field_label(f, lang) if kind == "cases" else
                     ((CONTACT_COLUMNS[f][0]) if lang == "zh" else f), "source": origin, "values": values})
    if kind == "cases" and profile.contacts_mode == "columns":
        for c in profile.contact_columns:
            rows.append({"field": t("prof.target.contact", lang, kind=label("contact_kind", c.kind, lang)),
                         "source": c.at + (f" + {c.note}" if c.note else ""),
                         "values": label("contact_channel", c.channel, lang) if c.channel else ""})
    return pd.DataFrame(rows, columns=["field", "source", "values"])
