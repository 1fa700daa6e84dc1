"""The case library's views without Streamlit: a case told along the Appendix A flow, the archive
checklist, and the training pack documents (DOCX and XLSX), all from de-identified data."""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Sequence

import pandas as pd

from rules.applies import applicable_checks
from rules.catalogue import BY_ID
from domain.i18n import t
from domain.timeutil import fmt_duration, fmt_local
from domain.privacy import xml_safe
from services.views import flag_detail, flow_stages
from domain.vocab import label

RIGHT = "right"
WRONG = "wrong"


def split_items(text: str | None) -> list[str]:
    """Items typed into one field, separated by commas (full or half width), 、 or new lines; blanks dropped,
    order kept, duplicates removed."""
    out: list[str] = []
    for line in (text or "").replace("，", ",").replace("、", ",").splitlines():
        for item in line.split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    return out


def training_months(sessions: Sequence[dict[str, Any]], zone) -> pd.DataFrame:
    """Sessions and attendances per local month, oldest first (to show that training is regular, 6.2)."""
    if not sessions:
        return pd.DataFrame(columns=["month", "sessions", "attendees"])
    frame = pd.DataFrame([{"month": s["held_at"].astimezone(zone).strftime("%Y-%m"), "attendees": len(s["attendees"])}
                          for s in sessions])
    return frame.groupby("month").agg(sessions=("month", "size"), attendees=("attendees", "sum")).reset_index()


def matching_line(library_text: str, terms: Sequence[str], width: int = 120) -> str | None:
    """The first line of an entry's case text (after the summary and the lesson) that contains a query
    term, cut to `width`; lines of a few characters (category, subcategory) are passed over."""
    for line in library_text.split("\n")[2:]:
        if len(line) > 12 and any(t in line.lower() for t in terms):
            return line[:width]
    return None


def story(record: dict[str, Any], obligations: Sequence[dict[str, Any]], now: datetime,
          lang: str = "zh") -> list[dict[str, Any]]:
    """The steps of Appendix A with when they happened, what the record says at each step, and the
    obligations judged there (what went right or wrong)."""
    steps = flow_stages(record, now, lang)
    shown: set[str] = set()

    def once(*parts: str | None) -> str:
        """The parts not already told at this or an earlier step (a transfer record often repeats the
        description, a department's solution the measures): a handout says each thing once."""
        out = []
        for part in parts:
            part = (part or "").strip()
            if part and part not in shown:
                shown.add(part)
                out.append(part)
        return "；".join(out)

    text = {
        0: once(record.get("description")),
        1: once(record.get("true_reason"), record.get("customer_demand")),
        2: once(record.get("event_restoration"), record.get("existing_problem"), record.get("solution_measures"),
                record.get("dept_solution")),
        3: once(record.get("decision")),
    }
    # which step of the flow each rule judges (a rejected case's flow is received, told, survey, closed,
    # archived)
    if record.get("acceptance") == "rejected":
        at_step = {"SAT-SURVEY": 2, "SAT-ROOT-CAUSE": 2, "SAT-ALTERNATIVES": 2, "REC-DECISION": 3,
                   "ARC-ARCHIVE": 4, "ARC-TYPICAL": 4}
        default = 1
        for n in range(1, len(steps)):
            text.pop(n, None)
    else:
        at_step = {"REC-ACCEPTANCE": 1, "SLA-FIRST-CONTACT": 2, "REC-TRANSFER": 2, "REC-DEPT-SOLUTION": 2,
                   "SLA-PROGRESS": 2, "SLA-FINAL-RESULT": 3, "SLA-PROMISED-REPLY": 3, "REC-DECISION": 3,
                   "SAT-SURVEY": 4, "SAT-ROOT-CAUSE": 4, "SAT-ALTERNATIVES": 4, "ARC-ARCHIVE": 6, "ARC-TYPICAL": 6}
        default = 1
    for n, s in enumerate(steps):
        s["text"] = text.get(n) or ""
        s["verdicts"] = []
    for o in obligations:
        n = min(at_step.get(o["rule_id"], default), len(steps) - 1)
        good = o["status"] is None and o["state"] == "met"
        if o["status"] is None and o["state"] != "met":
            continue  # still running and not due: neither right nor wrong yet
        rule = BY_ID[o["rule_id"]]
        steps[n]["verdicts"].append({
            "kind": RIGHT if good else WRONG, "rule_id": o["rule_id"], "clause": o["clause"],
            "title": rule.title_zh if lang == "zh" else rule.title_en, "detail": _as_it_happened(o, record, now, lang)})
    stored = {o["rule_id"] for o in obligations}
    for rule_id in sorted(applicable_checks(record, now) - stored):  # checks that passed store no row
        rule = BY_ID[rule_id]
        n = min(at_step.get(rule_id, default), len(steps) - 1)
        steps[n]["verdicts"].append({"kind": RIGHT, "rule_id": rule_id, "clause": rule.clause,
                                     "title": rule.title_zh if lang == "zh" else rule.title_en,
                                     "detail": t("lib.check_passed", lang)})
    return steps


def _as_it_happened(o: dict[str, Any], record: dict[str, Any], now: datetime, lang: str) -> str:
    """A verdict's detail for the story of a case (the library, training handouts): told with the case's own
    events, never counted from today. A deadline missed on a closed case is measured to the closing; one
    still owed (an archive not done, a case still open) is told as missed, without a running count."""
    detail = flag_detail(o, now, lang)
    missed = o["status"] == "breached" and o["fulfilled_at"] is None and o["outcome"] in ("missed", "pending", "at_risk")
    if not missed or o["due_at"] is None:
        return detail
    closed = record.get("closed_at")
    if closed is not None and closed > o["due_at"] and o["rule_id"] != "ARC-ARCHIVE":
        return t("lib.story.missed_at_close", lang, due=fmt_local(o["due_at"]), closed=fmt_local(closed),
                 over=fmt_duration((closed - o["due_at"]).total_seconds(), lang))
    return t("lib.story.missed", lang, due=fmt_local(o["due_at"]))


def rule_title(rule_id: str, lang: str = "zh") -> str:
    rule = BY_ID[rule_id]
    return f"{rule.title_zh if lang == 'zh' else rule.title_en}（{rule.clause}）"


def checklist_frame(rows: Sequence[dict[str, Any]], rules: Sequence[str], lang: str = "zh") -> pd.DataFrame:
    """The archive queue with one column per record rule: ✓ passes, ✗ fails, — does not apply."""
    mark = {"pass": "✓", "breached": "✗", None: "—"}
    out = []
    for r in rows:
        row = {t("lib.col.case_no", lang): r["case_no"], t("col.team", lang): r["team"] or "",
               t("search.handler", lang): r["handler"], t("lib.col.closed", lang): fmt_local(r["closed_at"]),
               t("col.due", lang): fmt_local(r["due_at"]),
               t("col.status", lang): t(f"status.{r['status']}", lang) if r["status"] else t("state.open", lang)}
        for rule in rules:
            row[rule_title(rule, lang)] = mark[r["checks"].get(rule)]
        row[t("lib.col.complete", lang)] = "✓" if r["complete"] else "✗"
        out.append(row)
    return pd.DataFrame(out)


def pack_rows(entries: Sequence[dict[str, Any]], lang: str = "zh") -> pd.DataFrame:
    """The XLSX list of a training pack (de-identified entries)."""
    return pd.DataFrame([{
        t("lib.col.case_no", lang): e["case_no"], t("search.category", lang): label("category", e["category"], lang),
        t("lib.col.sub", lang): e["subcategory"] or "", t("lib.col.example", lang): t(f"lib.example.{e['example']}", lang) if e["example"] else "",
        t("lib.col.summary", lang): e["summary"], t("lib.col.lesson", lang): e["lesson"],
        t("lib.col.tags", lang): "、".join(e["tags"]), t("lib.col.clauses", lang): "、".join(e["clauses"]),
        t("lib.col.outcome", lang): label("satisfaction", e["satisfaction"], lang) if e["satisfaction"] else "",
    } for e in entries])


def pack_docx(title: str, cases: Sequence[dict[str, Any]], now: datetime, lang: str = "zh") -> bytes:
    """A Word document for a class: per case its summary, lesson, tags and story, de-identified.
    `cases` are library_case() records with their obligations under "obligations"."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    title, cases = xml_safe(title), xml_safe(list(cases))  # one control character must not spoil the pack
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    doc.add_heading(title, level=0)
    doc.add_paragraph(t("lib.pack_intro", lang, n=len(cases), when=fmt_local(now)))
    for c in cases:
        mark = c["mark"]
        head = f"{c['case_no']} · {label('category', c['category'], lang)} · {c['subcategory'] or ''}"
        doc.add_heading(head, level=1)
        if mark.get("example"):
            doc.add_paragraph(t(f"lib.example.{mark['example']}", lang))
        doc.add_heading(t("lib.col.summary", lang), level=2)
        doc.add_paragraph(mark["summary"] or "")
        if mark.get("lesson"):
            doc.add_heading(t("lib.col.lesson", lang), level=2)
            doc.add_paragraph(mark["lesson"])
        tags = list(mark.get("tags") or []) + list(mark.get("clauses") or [])
        if tags:
            doc.add_paragraph(t("lib.col.tags", lang) + "：" + "、".join(tags))
        doc.add_heading(t("lib.story", lang), level=2)
        for step in story(c, c["obligations"], now, lang):
            p = doc.add_paragraph(style="List Number")
            p.add_run(step["step"]).bold = True
            if step["when"]:
                p.add_run(f"（{step['when']}）")
            if step["text"]:
                doc.add_paragraph(step["text"])
            for v in step["verdicts"]:
                sign = "✓" if v["kind"] == RIGHT else "✗"
                doc.add_paragraph(f"{sign} {v['clause']} {v['title']}：{v['detail']}", style="List Bullet")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def pack_pdf(title: str, cases: Sequence[dict[str, Any]], now: datetime, lang: str = "zh") -> bytes:
    """The same training pack as pack_docx, as a PDF with embedded Chinese fonts."""
    from services.pdf import Doc

    doc = Doc(title=title)
    doc.title(title, t("lib.pack_intro", lang, n=len(cases), when=fmt_local(now)))
    for c in cases:
        mark = c["mark"]
        doc.heading(f"{c['case_no']} · {label('category', c['category'], lang)} · {c['subcategory'] or ''}")
        if mark.get("example"):
            doc.para(t(f"lib.example.{mark['example']}", lang), 10, bold=True)
        doc.para(t("lib.col.summary", lang), 10.5, bold=True)
        doc.para(mark["summary"] or "")
        if mark.get("lesson"):
            doc.para(t("lib.col.lesson", lang), 10.5, bold=True)
            doc.para(mark["lesson"])
        tags = list(mark.get("tags") or []) + list(mark.get("clauses") or [])
        if tags:
            doc.para(t("lib.col.tags", lang) + "：" + "、".join(tags), 9.5)
        doc.para(t("lib.story", lang), 10.5, bold=True)
        for i, step in enumerate(story(c, c["obligations"], now, lang), start=1):
            doc.para(f"{i}. {step['step']}" + (f"（{step['when']}）" if step["when"] else ""), 10, bold=True)
            if step["text"]:
                doc.para(step["text"], 9.5)
            for v in step["verdicts"]:
                sign = "✓" if v["kind"] == RIGHT else "✗"
                doc.para(f"{sign} {v['clause']} {v['title']}：{v['detail']}", 9)
    return doc.bytes()
