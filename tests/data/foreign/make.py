"""Writes the test exports of #21 item 5: one set of cases in the product's own format and the same cases as
three other work-order systems would export them. Run `python tests/data/foreign/make.py` to rewrite the
files after changing it; the tests read the files as committed.

- own/cases.csv, own/contacts.csv: the interchange format (UTF-8, ISO times, Asia/Shanghai).
- province/工单导出.csv: a provincial customer-service system — GBK, two title lines above the header,
  times as `2026/3/5 8:07`, its own names for channels, categories and yes/no, the description in two
  columns, contacts as time columns of the case row (首次联系时间, 进度告知时间, 回复时间).
- helpdesk/tickets.xlsx + helpdesk/contacts.xlsx: an English-language helpdesk — the tickets on the second
  sheet, times as Excel serial day numbers in UTC, codes for channels, categories, rejection reasons and
  satisfaction, contacts in their own workbook with their own kind codes.
- unicode/投诉清单.csv: Excel's "Unicode text" — UTF-16 with tabs, date and time of receipt in two
  columns (`2026年3月5日` and `8:07`), the case number made of area code and serial, contacts as columns
  with a note column.
"""
from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
LOCAL = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 8, 0)
HANDLERS = [("李娜", "网络投诉一组"), ("张伟", "网络投诉一组"), ("王芳", "业务投诉组"), ("刘洋", "业务投诉组"),
            ("陈静", "服务质量组")]
TEXTS = {
    "network": [("信号弱", "家中室内信号弱，通话经常中断", "附近基站覆盖不足", "尽快改善室内信号"),
                ("无法上网", "手机无法上网，重启后仍然不行", "基站传输故障", "恢复上网并说明原因")],
    "business": [("扣费争议", "本月话费多扣了三十元，不知道是什么业务", "开通了增值业务未告知", "退还多扣费用"),
                 ("套餐变更", "要求更换套餐被告知需要等到下月", "套餐变更规则解释不清", "立即变更套餐")],
    "service": [("态度问题", "营业员态度不好，办理业务时不耐烦", "营业员服务不规范", "营业员道歉"),
                ("等候时间长", "营业厅排队一个多小时", "高峰期窗口不足", "增加窗口")],
}
SCENARIOS = ("on_time", "late_first", "no_contact", "no_final", "rejected", "promise_missed", "dissatisfied",
             "progress")


def _cases() -> tuple[list[dict], list[dict]]:
    rng = random.Random(21)
    cases, contacts = [], []
    for i in range(48):
        scenario = SCENARIOS[i % len(SCENARIOS)]
        received = START + timedelta(hours=5 * i, minutes=rng.choice((0, 7, 15, 32, 48)))
        handler, team = HANDLERS[rng.randrange(len(HANDLERS))]
        category = ("network", "business", "service")[i % 3]
        sub, desc, reason, demand = TEXTS[category][rng.randrange(2)]
        case = {
            "case_no": f"TZ-2026-{i + 1:06d}", "received_at": received, "channel": rng.choice(
                ("face_to_face", "letter", "online", "phone")), "category": category, "subcategory": sub,
            "customer_name": rng.choice(("赵敏", "钱进", "孙丽", "周强", "吴芳")) + rng.choice(("", "华", "军")),
            "customer_phone": f"13{rng.randrange(10**8, 10**9 - 1)}"[:11], "handler": handler, "team": team,
            "description": desc, "description_more": rng.choice(("", "客户多次来电", "已是第二次投诉")),
            "true_reason": reason, "customer_demand": demand, "items_confirmed": rng.random() < 0.8,
            "promised_reply_at": None, "acceptance": "accepted", "rejection_reason": None,
            "rejection_informed_at": None, "survey_at": None, "satisfaction": None, "dissatisfaction_cause": None,
            "closed_at": None,
        }
        first = final = progress = None
        if scenario == "rejected":
            case.update(acceptance="rejected", rejection_reason=rng.choice(
                ("outside_business_scope", "outside_service_scope", "past_time_limit")),
                rejection_informed_at=received + timedelta(hours=rng.choice((1, 30))))
        elif scenario == "no_contact":
            pass
        else:
            first = received + timedelta(hours=30 if scenario == "late_first" else rng.choice((1, 2, 5)),
                                         minutes=rng.choice((0, 20, 41)))
            if scenario == "progress":
                progress = first + timedelta(hours=12)
            if scenario != "no_final":
                final = received + timedelta(hours=rng.choice((20, 30, 47, 60)), minutes=rng.choice((0, 10)))
                case["closed_at"] = final + timedelta(minutes=30)
            if scenario == "promise_missed":
                case["promised_reply_at"] = received + timedelta(hours=12)
                final = received + timedelta(hours=26)
                case["closed_at"] = final + timedelta(minutes=30)
            if final is not None and rng.random() < 0.7:
                case["survey_at"] = final + timedelta(hours=20)
                case["satisfaction"] = "dissatisfied" if scenario == "dissatisfied" else rng.choice(
                    ("satisfied", "basically_satisfied"))
                if case["satisfaction"] == "dissatisfied":
                    case["dissatisfaction_cause"] = "处理时间太长"
        for kind, at in (("first", first), ("progress", progress), ("final", final)):
            if at is not None:
                contacts.append({"case_no": case["case_no"], "contact_at": at, "kind": kind, "channel": "phone",
                                 "note": "电话联系客户" if kind == "first" else ""})
        cases.append(case)
    return cases, contacts


def _iso(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


def _slash(t: datetime | None) -> str:
    return f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}" if t else ""


def _serial_utc(t: datetime | None) -> float | None:
    if t is None:
        return None
    utc = t.replace(tzinfo=LOCAL).astimezone(timezone.utc).replace(tzinfo=None)
    return round((utc - datetime(1899, 12, 30)).total_seconds() / 86400, 8)


def _csv(rows: list[list], sep: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _description(c: dict) -> str:
    return "；".join(x for x in (c["description"], c["description_more"]) if x)


def write_own(cases: list[dict], contacts: list[dict]) -> None:
    cols = ["case_no", "received_at", "channel", "category", "subcategory", "customer_name", "customer_phone",
            "handler", "team", "description", "true_reason", "customer_demand", "items_confirmed",
            "promised_reply_at", "acceptance", "rejection_reason", "rejection_informed_at", "survey_at",
            "satisfaction", "dissatisfaction_cause", "closed_at"]
    rows = [cols]
    for c in cases:
        v = {**c, "description": _description(c), "items_confirmed": "true" if c["items_confirmed"] else "false"}
        rows.append([_iso(v[k]) if isinstance(v[k], datetime) else ("" if v[k] is None else v[k]) for k in cols])
    (HERE / "own").mkdir(exist_ok=True)
    (HERE / "own" / "cases.csv").write_text(_csv(rows), encoding="utf-8")
    crow = [["case_no", "contact_at", "kind", "channel", "note"]]
    crow += [[x["case_no"], _iso(x["contact_at"]), x["kind"], x["channel"], x["note"]] for x in contacts]
    (HERE / "own" / "contacts.csv").write_text(_csv(crow), encoding="utf-8")


def _contact(contacts: list[dict], case_no: str, kind: str) -> dict | None:
    return next((x for x in contacts if x["case_no"] == case_no and x["kind"] == kind), None)


def write_province(cases: list[dict], contacts: list[dict]) -> None:
    channel = {"face_to_face": "营业厅", "letter": "来信", "online": "网上营业厅", "phone": "10086热线"}
    category = {"network": "网络质量", "business": "业务资费", "service": "服务质量"}
    rejection = {"outside_business_scope": "非我司业务", "outside_service_scope": "非服务范围",
                 "past_time_limit": "超出时限"}
    satisfaction = {"satisfied": "满意", "basically_satisfied": "一般", "dissatisfied": "不满意"}
    header = ["工单编号", "工单状态", "受理时间", "受理渠道", "投诉分类", "二级分类", "客户名称", "联系号码", "处理人员",
              "所属班组", "投诉描述", "补充描述", "核实原因", "客户要求", "是否确认", "承诺回复时间", "受理状态",
              "不受理原因", "告知时间", "首次联系时间", "进度告知时间", "回复时间", "回访时间", "满意度", "不满意原因",
              "结案时间"]
    rows = [["泰州移动投诉工单导出"] + [""] * (len(header) - 1),
            ["导出时间：2026/3/20 9:00", "导出人：系统"] + [""] * (len(header) - 2), header]
    for c in cases:
        first, progress, final = (_contact(contacts, c["case_no"], k) for k in ("first", "progress", "final"))
        rows.append([
            c["case_no"], "已办结" if c["closed_at"] else "处理中", _slash(c["received_at"]), channel[c["channel"]],
            category[c["category"]], c["subcategory"], c["customer_name"], c["customer_phone"], c["handler"],
            c["team"], c["description"], c["description_more"], c["true_reason"], c["customer_demand"],
            "已确认" if c["items_confirmed"] else "未确认", _slash(c["promised_reply_at"]),
            "正常受理" if c["acceptance"] == "accepted" else "不予受理",
            rejection.get(c["rejection_reason"], ""), _slash(c["rejection_informed_at"]),
            _slash(first and first["contact_at"]), _slash(progress and progress["contact_at"]),
            _slash(final and final["contact_at"]), _slash(c["survey_at"]), satisfaction.get(c["satisfaction"], ""),
            c["dissatisfaction_cause"] or "", _slash(c["closed_at"])])
    (HERE / "province").mkdir(exist_ok=True)
    (HERE / "province" / "工单导出.csv").write_bytes(_csv(rows).encode("gbk"))


def write_helpdesk(cases: list[dict], contacts: list[dict]) -> None:
    channel = {"face_to_face": "Store", "letter": "Mail", "online": "Web", "phone": "Hotline"}
    category = {"network": "NET", "business": "BIZ", "service": "SVC"}
    rejection = {"outside_business_scope": "R1", "outside_service_scope": "R2", "past_time_limit": "R3"}
    csat = {"satisfied": 3, "basically_satisfied": 2, "dissatisfied": 1}
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    readme.append(["Exported from ServiceDesk 9.2 — times are UTC day numbers"])
    sheet = wb.create_sheet("Tickets")
    sheet.append(["Ticket ID", "Opened (UTC)", "Source", "Type", "Sub-type", "Customer", "Phone", "Assignee",
                  "Group", "Summary", "Root cause", "Request", "Confirmed", "Promise due", "Accepted",
                  "Reject reason", "Rejection told", "Survey", "CSAT", "CSAT comment", "Resolved"])
    for c in cases:
        sheet.append([c["case_no"], _serial_utc(c["received_at"]), channel[c["channel"]], category[c["category"]],
                      c["subcategory"], c["customer_name"], int(c["customer_phone"]), c["handler"], c["team"],
                      _description(c), c["true_reason"], c["customer_demand"], "Y" if c["items_confirmed"] else "N",
                      _serial_utc(c["promised_reply_at"]), "Yes" if c["acceptance"] == "accepted" else "No",
                      rejection.get(c["rejection_reason"]), _serial_utc(c["rejection_informed_at"]),
                      _serial_utc(c["survey_at"]), csat.get(c["satisfaction"]), c["dissatisfaction_cause"],
                      _serial_utc(c["closed_at"])])
    (HERE / "helpdesk").mkdir(exist_ok=True)
    wb.save(HERE / "helpdesk" / "tickets.xlsx")
    kinds = {"first": "Initial call", "progress": "Update", "final": "Resolution"}
    wb = Workbook()
    log = wb.active
    log.title = "Contacts"
    log.append(["Ticket", "When (UTC)", "Type", "Via", "Memo"])
    for x in contacts:
        log.append([x["case_no"], _serial_utc(x["contact_at"]), kinds[x["kind"]], "Call", x["note"] or None])
    wb.save(HERE / "helpdesk" / "contacts.xlsx")


def write_unicode(cases: list[dict], contacts: list[dict]) -> None:
    satisfaction = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}

    def cn(t: datetime | None) -> str:
        return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}" if t else ""

    header = ["地区", "流水号", "受理日期", "受理时刻", "来源", "类别", "子类", "用户姓名", "用户号码", "责任人", "班组",
              "问题描述", "原因分析", "用户诉求", "核实", "约定回复", "受理", "不受理原因", "不受理告知", "首次响应时间",
              "首次响应说明", "中间进度时间", "结果答复时间", "满意度调查时间", "满意度", "不满意原因", "办结时间"]
    rows = [header]
    for c in cases:
        first, progress, final = (_contact(contacts, c["case_no"], k) for k in ("first", "progress", "final"))
        area, serial = c["case_no"].split("-", 1)
        t = c["received_at"]
        rows.append([area, serial, f"{t.year}年{t.month}月{t.day}日", f"{t.hour}:{t.minute:02d}",
                     {"face_to_face": "面谈", "letter": "信函", "online": "网络", "phone": "电话"}[c["channel"]],
                     {"network": "网络", "business": "业务", "service": "服务"}[c["category"]], c["subcategory"],
                     c["customer_name"], c["customer_phone"], c["handler"], c["team"], _description(c),
                     c["true_reason"], c["customer_demand"], "是" if c["items_confirmed"] else "否",
                     cn(c["promised_reply_at"]), "受理" if c["acceptance"] == "accepted" else "不予受理",
                     {"outside_business_scope": "超出经营范围", "outside_service_scope": "超出服务范围",
                      "past_time_limit": "超出服务时限"}.get(c["rejection_reason"], ""),
                     cn(c["rejection_informed_at"]), cn(first and first["contact_at"]),
                     (first or {}).get("note", ""), cn(progress and progress["contact_at"]),
                     cn(final and final["contact_at"]), cn(c["survey_at"]), satisfaction.get(c["satisfaction"], ""),
                     c["dissatisfaction_cause"] or "", cn(c["closed_at"])])
    (HERE / "unicode").mkdir(exist_ok=True)
    (HERE / "unicode" / "投诉清单.csv").write_bytes(_csv(rows, "\t").encode("utf-16"))


def main() -> None:
    cases, contacts = _cases()
    write_own(cases, contacts)
    write_province(cases, contacts)
    write_helpdesk(cases, contacts)
    write_unicode(cases, contacts)


if __name__ == "__main__":
    main()
