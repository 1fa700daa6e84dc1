"""Page logic of the live board: countdowns, tables, chart data and exports (no Streamlit here)."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from typing import Any, Sequence

import numpy as np
import pandas as pd

from rules.catalogue import BY_ID
from domain.i18n import t
from domain.privacy import neutralise_cell
from domain.config import local_zone
from domain.timeutil import fmt_duration, fmt_local
from domain.vocab import label

WEEKDAYS_ZH = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
WEEKDAYS_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def countdown(due: datetime, now: datetime, lang: str = "zh") -> str:
    """Time left until `due`, or how long ago it passed: `剩余 3小时05分` / `已超时 2小时10分`."""
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return (f"剩余 {fmt_duration(seconds, lang)}" if lang == "zh" else f"{fmt_duration(seconds, lang)} left")
    return (f"已超时 {fmt_duration(-seconds, lang)}" if lang == "zh" else f"overdue {fmt_duration(-seconds, lang)}")


def queue_frame(rows: Sequence[dict[str, Any]], now: datetime, lang: str = "zh") -> pd.DataFrame:
    """The act-now queue, soonest due first; `overdue` marks the rows the page paints red."""
    data = []
    for r in rows:
        rule = BY_ID[r["rule_id"]]
        data.append({
            "link": f"/case?case={r['case_no']}",
            t("board.case", lang): r["case_no"],
            t("board.left", lang): countdown(r["due_at"], now, lang),
            t("col.rule", lang): rule.title_zh if lang == "zh" else rule.title_en,
            t("col.clause", lang): r["clause"],
            t("col.due", lang): fmt_local(r["due_at"]),
            t("search.handler", lang): r["handler"],
            t("col.team", lang): r["team"] or "",
            t("search.category", lang): label("category", r["category"], lang),
            "overdue": r["due_at"] < now,
        })
    # what a team lead must see first, also on a narrow window: case, time left, rule, handler
    columns = ["link", t("board.case", lang), t("board.left", lang), t("col.rule", lang), t("search.handler", lang),
               t("col.due", lang), t("col.clause", lang), t("col.team", lang), t("search.category", lang), "overdue"]
    return pd.DataFrame(data, columns=columns)


def wall_queue(queue: pd.DataFrame, lang: str = "zh", rows: int = 12) -> pd.DataFrame:
    """The act-now queue for the wall display: the first rows, the columns that fit in large type."""
    keep = [t("board.case", lang), t("board.left", lang), t("col.rule", lang), t("search.handler", lang),
            t("col.team", lang)]
    return queue[keep].head(rows).reset_index(drop=True).rename(index=lambda i: i + 1)


def handler_frame(rows: Sequence[dict[str, Any]], lang: str = "zh",
                  notices_overdue: dict[str, int] | None = None) -> pd.DataFrame:
    """Per handler: deadlines at risk, overdue, and 督办 notices left unanswered past their reply-by time."""
    frame = pd.DataFrame(rows, columns=["team", "handler", "at_risk", "overdue"])
    late = notices_overdue or {}
    frame["notices"] = frame["handler"].map(lambda h: int(late.get(h, 0)))
    frame = frame.sort_values(["overdue", "at_risk", "notices"], ascending=False)
    return frame.rename(columns={"team": t("col.team", lang), "handler": t("search.handler", lang),
                                 "at_risk": t("status.at_risk", lang), "overdue": t("board.overdue", lang),
                                 "notices": t("board.notices_late", lang)})


def team_frame(rows: Sequence[dict[str, Any]], lang: str = "zh") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["team", "handler", "at_risk", "overdue"])
    frame = frame.groupby("team", as_index=False)[["at_risk", "overdue"]].sum()
    frame = frame.sort_values(["overdue", "at_risk"], ascending=False)
    return frame.rename(columns={"team": t("col.team", lang), "at_risk": t("status.at_risk", lang),
                                 "overdue": t("board.overdue", lang)})


def compliance_frame(rows: Sequence[dict[str, Any]], lang: str = "zh") -> pd.DataFrame:
    data = []
    for r in sorted(rows, key=lambda r: r["rule_id"]):
        rule = BY_ID[r["rule_id"]]
        data.append({  # titles, not rule ids: the people reading it think in deadlines, not codes
            t("col.rule", lang): rule.title_zh if lang == "zh" else rule.title_en,
            t("col.clause", lang): rule.clause,
            t("rules.met", lang): r["met"],
            t("status.breached", lang): r["breached"],
            t("board.rate", lang): None if r["rate"] is None else round(100 * r["rate"], 1),
        })
    return pd.DataFrame(data)


def trend_frame(rows: Sequence[dict[str, Any]], lang: str = "zh") -> pd.DataFrame:
    """Breaches per local day and deadline, the deadline by its title (the chart's legend)."""
    frame = pd.DataFrame(rows, columns=["day", "weekday", "hour", "rule_id", "category", "channel", "n"])
    out = frame.groupby(["day", "rule_id"], as_index=False)["n"].sum()
    out["rule"] = out["rule_id"].map(lambda r: BY_ID[r].title_zh if lang == "zh" else BY_ID[r].title_en)
    return out


def heatmap_frame(rows: Sequence[dict[str, Any]], lang: str = "zh") -> pd.DataFrame:
    """Every weekday × hour cell, zero-filled, so that quiet hours show as such."""
    frame = pd.DataFrame(rows, columns=["day", "weekday", "hour", "rule_id", "category", "channel", "n"])
    grid = frame.groupby(["weekday", "hour"])["n"].sum()
    names = WEEKDAYS_ZH if lang == "zh" else WEEKDAYS_EN
    cells = [{"weekday": names[w], "order": w, "hour": h, "n": int(grid.get((w, h), 0))}
             for w in range(7) for h in range(24)]
    return pd.DataFrame(cells)


def breakdown_frame(rows: Sequence[dict[str, Any]], lang: str = "zh") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["day", "weekday", "hour", "rule_id", "category", "channel", "n"])
    pivot = frame.pivot_table(index="category", columns="channel", values="n", aggfunc="sum", fill_value=0)
    pivot.index = [label("category", c, lang) for c in pivot.index]
    pivot.columns = [label("channel", c, lang) for c in pivot.columns]
    return pivot


def appeal_cutoff(now_local: datetime, days: int, warn_days: int, unit: str = "calendar") -> datetime:
    """Cases received at or before this instant are within `warn_days` of the appeal limit of `days`.

    `unit` is `calendar` (default) or `working` (Monday to Friday; public holidays are not known here)."""
    reach = days - warn_days
    if unit == "working":
        day = np.busday_offset(now_local.date(), -reach, roll="backward")
        moved = date.fromisoformat(str(day))
        return datetime.combine(moved, now_local.timetz())
    return now_local - timedelta(days=reach)


def appeal_frame(rows: Sequence[dict[str, Any]], now: datetime, days: int, lang: str = "zh") -> pd.DataFrame:
    data = []
    for r in rows:
        age = now - r["received_at"]
        data.append({
            "link": f"/case?case={r['case_no']}",
            t("board.case", lang): r["case_no"],
            t("search.received", lang): fmt_local(r["received_at"]),
            t("board.age", lang): f"{age.days}" + (" 天" if lang == "zh" else " d"),
            t("board.to_limit", lang): countdown(r["received_at"] + timedelta(days=days), now, lang),
            t("search.handler", lang): r["handler"],
            t("col.team", lang): r["team"] or "",
            t("search.category", lang): label("category", r["category"], lang),
        })
    return pd.DataFrame(data)


def export_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark so that Excel shows Chinese; formula-like cells neutralised."""
    return _safe(frame).to_csv(index=False).encode("utf-8-sig")


_LOCAL_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


def _as_datetimes(column: pd.Series) -> pd.Series | None:
    """A column of local times written as text (fmt_local: "2026-03-02 06:00") as datetimes, so that Excel
    can sort, filter and compute with them; None when the column is something else."""
    values = column.dropna()
    values = values[values.astype(str) != ""]
    if values.empty or not values.map(lambda v: isinstance(v, str) and bool(_LOCAL_MINUTE.match(v))).all():
        return None
    return pd.to_datetime(column.replace("", None), format="%Y-%m-%d %H:%M")


def _width(values: list[object]) -> int:
    """Column width in Excel's units: CJK characters are two wide; capped, long text wraps in the cell."""
    longest = max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(v)) for v in values), default=4)
    return max(6, min(60, longest + 2))


def export_xlsx(frames: dict[str, pd.DataFrame], stamp: str | None = None) -> bytes:
    """Sheets people keep: an as-of / exported-by line above each table (`stamp`), a frozen header row,
    local times as real Excel date-times, columns as wide as their content, formulas neutralised."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter", datetime_format="yyyy-mm-dd hh:mm") as writer:
        book = writer.book
        header = book.add_format({"bold": True, "bg_color": "#EEF2F6", "border": 1, "text_wrap": True})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        top = 1 if stamp else 0
        for name, frame in frames.items():
            frame = _safe(frame)
            for col in frame.columns:
                converted = _as_datetimes(frame[col])
                if converted is not None:
                    frame[col] = converted
            sheet_name = name[:31]
            frame.to_excel(writer, sheet_name=sheet_name, index=False, startrow=top)
            sheet = writer.sheets[sheet_name]
            if stamp:
                sheet.write(0, 0, stamp)
            for i, col in enumerate(frame.columns):
                sheet.write(top, i, str(col), header)
                sample = [col] + frame[col].head(500).tolist()
                width = 17 if pd.api.types.is_datetime64_any_dtype(frame[col]) else _width(sample)
                sheet.set_column(i, i, width, wrap if width >= 60 else None)
            sheet.freeze_panes(top + 1, 0)
    return buf.getvalue()


def export_name(page: str, now: datetime, suffix: str) -> str:
    """A download's file name: the page and the local time, e.g. 督办看板_20261129_1530.xlsx."""
    return f"{page}_{now.astimezone(local_zone()):%Y%m%d_%H%M}.{suffix}"


def export_stamp(now: datetime, user: str, lang: str = "zh") -> str:
    return t("export.stamp", lang, when=fmt_local(now), user=user)


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    cleaned = frame.drop(columns=[c for c in ("link", "overdue") if c in frame.columns])
    return cleaned.map(neutralise_cell)


def day_start_local(now_local: datetime) -> datetime:
    return datetime.combine(now_local.date(), time(0), tzinfo=now_local.tzinfo)
