"""The public notice (4.2, 8.1): where and how to complain, the promised time limits, and the handling
flow of Appendix A drawn as a diagram — as an A4/A3 PDF for the service-hall notice board and as the data
the notice page shows."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.notice import halls, promises
from domain.timeutil import fmt_local
from services.pdf import Doc

# Appendix A in the product's own words: (step, what happens there)
FLOW = [
    ("您提出投诉", "到营业厅当面、拨打投诉电话、来信或网上提交均可"),
    ("我们认真听取并登记", "记录您反映的问题、真实原因和您的诉求，与您确认无误"),
    ("能当场解决的立即处理", "不能当场解决的，转责任部门核查分析、提出解决方案"),
    ("向您答复处理结果", "在承诺时限内答复；需较长时间的，按约定告知进度"),
    ("回访您的满意度", "不满意的，查明原因并提供可选的解决办法"),
    ("总结分析、持续改进", "典型问题从源头整改，避免同类问题再次发生"),
]


def notice_pdf(notice: dict[str, str], th: Any, size: str = "A4", now: datetime | None = None) -> bytes:
    doc = Doc(size=size, title=f"{notice['centre']} 客户投诉受理公告")
    doc.title(f"{notice['centre']}\n客户投诉受理公告", "依据 DB3212/T 1102—2022《移动通信客户投诉处理规范》第 4.2、8.1 条公示")
    doc.heading("在哪里投诉")
    rows = [("受理部门", notice["department"]), ("投诉电话", notice["complaint_numbers"]),
            ("受理时间", notice["service_hours"])]
    if notice.get("address"):
        rows.append(("地址", notice["address"]))
    doc.pairs(rows)
    doc.heading("监督电话")
    sup = []
    if notice.get("operator_supervision"):
        sup.append(("本公司服务质量监督", notice["operator_supervision"]))
    sup.append(("电信用户申诉", notice["regulator_supervision"]))
    doc.pairs(sup)
    doc.heading("我们的承诺")
    for line in promises(th, "zh"):
        doc.para("• " + line, 11)
    doc.heading("投诉处理流程（附录A）")
    doc.flow([s for s, _n in FLOW], [n for _s, n in FLOW])
    places = halls(notice)
    if places:
        doc.heading("本公告张贴于")
        doc.para("、".join(places), 10)
    doc.footer_note("时限自投诉受理登记之时起计算。" + (f"公告生成于 {fmt_local(now)}。" if now else ""))
    return doc.bytes()
