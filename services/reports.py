"""Daily and weekly supervision reports, for the centre or one team: deadlines met per rule with the change
from the previous period, breaches by rule, team and handler, the longest-open cases, rejections awaiting
review, dissatisfied customers and what was done, inspection results. As PDF (charts drawn in the PDF)
and XLSX, from the 督办报告 page and `manage.py report`.

Deadline figures come from the board's own query (db.board.compliance), so the report and the board agree
for the same period and team."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db import board, reports, reviews
from db.inspection import assessment_rows
from domain.config import local_zone
from domain.i18n import Said
from domain.deid import scrub_text
from domain.privacy import neutralise_cell
from domain.timeutil import fmt_local
from domain.vocab import label
from rules.catalogue import BY_ID
from services.pdf import Doc

PERIODS = ("day", "week")


class ReportRefused(ValueError):
    """A report that cannot be made as asked; the message names the problem."""


@dataclass(frozen=True)
class Period:
    kind: str  # day | week
    start: datetime
    end: datetime

    @property
    def previous(self) -> "Period":
        length = self.end - self.start
        return Period(self.kind, self.start - length, self.start)

    def label(self) -> str:
        a = self.start.astimezone(local_zone()).date()
        if self.kind == "day":
            return f"{a:%Y-%m-%d}"
        return f"{a:%Y-%m-%d} 至 {(self.end.astimezone(local_zone()).date() - timedelta(days=1)):%Y-%m-%d}"


def period_of(kind: str, day: date) -> Period:
    """The local day, or the Monday-to-Sunday week, that contains `day`."""
    if kind not in PERIODS:
        raise ReportRefused(Said("err.reports.1", kind=repr(kind)))
    first = day if kind == "day" else day - timedelta(days=day.weekday())
    start = datetime.combine(first, time(0), tzinfo=local_zone())
    return Period(kind, start, start + timedelta(days=1 if kind == "day" else 7))


def _rate(row: dict | None) -> float | None:
    return None if row is None else row["rate"]


def build(session: Session, period: Period, team: str | None, now: datetime) -> dict[str, Any]:
    if team and not reports.team_exists(session, team):
        raise ReportRefused(Said("err.reports.2", team=repr(team)))
    if period.start >= now:
        raise ReportRefused(Said("err.reports.3"))
    teams = (team,) if team else ()
    f = board.BoardFilters(teams=teams)
    current = {r["rule_id"]: r for r in board.compliance(session, now, f, period.start, period.end)}
    before = {r["rule_id"]: r for r in board.compliance(session, now, f, period.previous.start, period.previous.end)}
    compliance = []
    for rule_id in sorted(set(current) | set(before)):
        c, b = current.get(rule_id), before.get(rule_id)
        compliance.append({"rule_id": rule_id, "met": c["met"] if c else 0, "breached": c["breached"] if c else 0,
                           "rate": _rate(c), "previous_rate": _rate(b),
                           "change": None if c is None or b is None else c["rate"] - b["rate"]})
    breaches = reports.breaches_by_team_and_handler(session, now, f, period.start, period.end)
    assessed = assessment_rows(session, period.start, period.end)
    if team:
        assessed = assessed[assessed["team"] == team]
    scores = assessed["score"].dropna()
    return {
        "period": period, "team": team, "generated_at": now,
        "compliance": compliance,
        "breaches": breaches,
        "longest_open": reports.longest_open(session, min(now, period.end), teams),
        "waiting_review": reviews.review_queue(session, min(now, period.end), teams, limit=20),
        "waiting_review_total": reviews.waiting_count(session, min(now, period.end), teams),
        "dissatisfied": [_deidentified(d) for d in reports.dissatisfied(session, period.start, period.end, teams)],
        "inspection": {"assessed": int(len(assessed)), "mean": None if scores.empty else float(scores.mean()),
                       "pass_rate": None if assessed.empty else float(assessed["passed"].mean())},
    }


def _deidentified(row: dict[str, Any]) -> dict[str, Any]:
    """Free text as every masked view shows it; the customer's name itself never leaves the query."""
    names = [row["customer_name"]] if row.get("customer_name") else []
    out = {k: v for k, v in row.items() if k != "customer_name"}
    for key in ("dissatisfaction_cause", "alternatives"):
        out[key] = scrub_text(row[key], names) if row[key] else row[key]
    return out


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _change(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:+.1f} 个百分点"


def _title(report: dict[str, Any]) -> str:
    kind = "日报" if report["period"].kind == "day" else "周报"
    return f"投诉督办{kind}（{report['team'] or '全中心'}）"


def _by(breaches: list[dict], key: str) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for b in breaches:
        totals[b[key] or "—"] = totals.get(b[key] or "—", 0) + b["n"]
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def report_pdf(report: dict[str, Any]) -> bytes:
    doc = Doc(title=_title(report))
    doc.title(_title(report), f"统计期间：{report['period'].label()} · 生成于 {fmt_local(report['generated_at'])}")
    doc.heading("一、时限达标情况")
    doc.table(["时限", "条款", "按时", "超时", "达标率", "上期", "变化"],
              [[BY_ID[r["rule_id"]].title_zh, BY_ID[r["rule_id"]].clause, r["met"], r["breached"], _pct(r["rate"]),
                _pct(r["previous_rate"]), _change(r["change"])] for r in report["compliance"]],
              widths=[3.2, 1.3, 0.8, 0.8, 1, 1, 1.4])
    doc.bars([(BY_ID[r["rule_id"]].title_zh, r["rate"] or 0, _pct(r["rate"])) for r in report["compliance"]
              if r["rate"] is not None], max_value=1)
    doc.heading("二、超时情况")
    by_rule = [(BY_ID[k].title_zh, v) for k, v in _by(report["breaches"], "rule_id")]
    doc.para("按时限：", 10, bold=True)
    doc.bars([(k, v, f"{v} 件") for k, v in by_rule])
    doc.para("按班组：", 10, bold=True)
    doc.bars([(k, v, f"{v} 件") for k, v in _by(report["breaches"], "team")])
    doc.para("按处理人（前 10 位）：", 10, bold=True)
    doc.table(["处理人", "超时件数"], [[k, v] for k, v in _by(report["breaches"], "handler")[:10]], widths=[3, 1])
    doc.heading("三、处理时间最长的在办工单")
    doc.table(["工单号", "受理时间", "类别", "处理人", "班组"],
              [[c["case_no"], fmt_local(c["received_at"]), label("category", c["category"], "zh"), c["handler"],
                c["team"] or ""] for c in report["longest_open"]], widths=[2.6, 2, 1, 1.2, 1.6])
    doc.heading(f"四、待复核的不予受理（共 {report['waiting_review_total']} 件）")
    doc.table(["工单号", "受理时间", "理由", "处理人"],
              [[c["case_no"], fmt_local(c["received_at"]),
                label("rejection_reason", c["rejection_reason"], "zh") if c["rejection_reason"] else "—", c["handler"]]
               for c in report["waiting_review"]], widths=[2.6, 2, 2, 1.2])
    doc.heading(f"五、不满意客户及处理（共 {len(report['dissatisfied'])} 件）")
    doc.table(["工单号", "回访时间", "处理人", "不满意原因", "已提供的方案"],
              [[c["case_no"], fmt_local(c["survey_at"]), c["handler"], c["dissatisfaction_cause"] or "未查明",
                c["alternatives"] or "—"] for c in report["dissatisfied"]], widths=[2.4, 1.8, 1, 2.4, 2.4])
    doc.heading("六、质检结果")
    ins = report["inspection"]
    doc.pairs([("质检件数", str(ins["assessed"])),
               ("平均得分", "—" if ins["mean"] is None else f"{ins['mean']:.1f}"),
               ("合格率", _pct(ins["pass_rate"]))], key_width=35)
    doc.footer_note("本报告不含客户姓名和电话。时限口径与督办看板一致：到期时间落在统计期间内的时限，"
                    "按时完成计为达标，超时或仍未完成计为超时。")
    return doc.bytes()


def report_xlsx(report: dict[str, Any]) -> bytes:
    """The same report as workbook sheets (times as Excel date-times, formulas neutralised)."""
    def frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
        data = pd.DataFrame(rows, columns=list(columns)) if rows else pd.DataFrame(columns=list(columns))
        for c in data.columns:
            if pd.api.types.is_datetime64_any_dtype(data[c]) or (len(data) and isinstance(data[c].iloc[0], datetime)):
                data[c] = pd.to_datetime(data[c], utc=True).dt.tz_convert(local_zone()).dt.tz_localize(None)
            elif data[c].dtype == object:
                data[c] = data[c].map(neutralise_cell)
        return data.rename(columns=columns)

    comp = [{**r, "title": BY_ID[r["rule_id"]].title_zh} for r in report["compliance"]]
    sheets = {
        "时限达标": frame(comp, {"title": "时限", "rule_id": "规则", "met": "按时", "breached": "超时", "rate": "达标率",
                                "previous_rate": "上期达标率", "change": "变化"}),
        "超时明细": frame(report["breaches"], {"team": "班组", "handler": "处理人", "rule_id": "规则", "n": "超时件数"}),
        "最长在办": frame(report["longest_open"], {"case_no": "工单号", "received_at": "受理时间", "category": "类别",
                                                "handler": "处理人", "team": "班组"}),
        "待复核不予受理": frame(report["waiting_review"], {"case_no": "工单号", "received_at": "受理时间",
                                                     "rejection_reason": "理由", "handler": "处理人", "team": "班组"}),
        "不满意客户": frame(report["dissatisfied"], {"case_no": "工单号", "survey_at": "回访时间", "handler": "处理人",
                                                  "dissatisfaction_cause": "不满意原因", "alternatives": "已提供的方案"}),
    }
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter", datetime_format="yyyy-mm-dd hh:mm") as xw:
        head = pd.DataFrame([[_title(report)], [f"统计期间：{report['period'].label()}"],
                             [f"生成于：{fmt_local(report['generated_at'])}"]])
        head.to_excel(xw, sheet_name="说明", index=False, header=False)
        for name, data in sheets.items():
            data.to_excel(xw, sheet_name=name, index=False, freeze_panes=(1, 0))
            sheet = xw.sheets[name]
            for i, col in enumerate(data.columns):
                width = max([len(str(col))] + [len(str(v)) for v in data[col].head(200)]) + 4
                sheet.set_column(i, i, min(60, width))
    return buf.getvalue()


def write(report: dict[str, Any], path: str) -> str:
    """Write the report as PDF or XLSX by the file's ending."""
    lower = path.lower()
    if lower.endswith(".pdf"):
        data = report_pdf(report)
    elif lower.endswith(".xlsx"):
        data = report_xlsx(report)
    else:
        raise ReportRefused(Said("err.reports.4", path=path))
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise ReportRefused(Said("err.reports.5", path=path, value=exc.strerror or exc)) from None
    return path
