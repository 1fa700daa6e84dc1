"""Building small interchange files for tests."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook

from domain.vocab import CASE_COLUMNS


def case_row(case_no: str = "C001", **overrides: Any) -> dict[str, Any]:
    row = {
        "case_no": case_no, "received_at": "2026-03-01 09:00", "channel": "phone", "category": "network",
        "subcategory": "信号弱", "customer_name": "王小明", "customer_phone": "13812345678", "handler": "李娜",
        "team": "网络投诉一组", "description": "家中信号弱", "true_reason": "基站覆盖不足", "customer_demand": "改善信号",
        "items_confirmed": "true", "promised_reply_at": "2026-03-02 09:00", "acceptance": "accepted",
    }
    row.update(overrides)
    return row


def contact_row(case_no: str = "C001", contact_at: str = "2026-03-01 10:00", kind: str = "first", **kw: Any) -> dict[str, Any]:
    return {"case_no": case_no, "contact_at": contact_at, "kind": kind, **kw}


def to_chinese(rows: Sequence[dict[str, Any]], columns=CASE_COLUMNS) -> list[dict[str, Any]]:
    return [{columns[k][0]: v for k, v in r.items()} for r in rows]


def write_csv(path: Path, rows: Sequence[dict[str, Any]], encoding: str = "utf-8") -> Path:
    headers: list[str] = []
    for r in rows:
        headers += [k for k in r if k not in headers]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=headers, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    headers: list[str] = []
    for r in rows:
        headers += [k for k in r if k not in headers]
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h, "") for h in headers])
    wb.save(path)
    return path

