"""The public notice of how to complain (4.2) and of the handling flow (8.1, Appendix A): its fields, their
checks, and the text of the promised time limits (always taken from the rule thresholds in force, so the
notice and the rules never disagree)."""
from __future__ import annotations

from typing import Any

from domain.i18n import Said

FIELDS = ("centre", "department", "complaint_numbers", "operator_supervision", "regulator_supervision",
          "service_hours", "address", "halls")
DEFAULTS: dict[str, str] = {
    "centre": "中国移动泰州分公司客户服务中心",
    "department": "客户投诉处理中心",
    "complaint_numbers": "10086",
    "operator_supervision": "",
    "regulator_supervision": "12300（工业和信息化部电信用户申诉受理中心）",
    "service_hours": "全天 24 小时受理；营业厅按各厅营业时间受理",
    "address": "",
    "halls": "",
}
REQUIRED = ("centre", "department", "complaint_numbers", "regulator_supervision", "service_hours")
MAX_LENGTH = 300


class NoticeInvalid(ValueError):
    """A notice setting that cannot be saved; the message names the field."""


def clean(values: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in FIELDS:
        text = str(values.get(name) or "").replace("\x00", "").strip()
        if name in REQUIRED and not text:
            raise NoticeInvalid(Said("err.notice.1", name=name))
        if len(text) > MAX_LENGTH * (4 if name == "halls" else 1):
            raise NoticeInvalid(Said("err.notice.2", name=name))
        out[name] = text
    return out


def halls(notice: dict[str, str]) -> list[str]:
    return [h.strip() for h in notice.get("halls", "").replace("；", "\n").replace(";", "\n").splitlines() if h.strip()]


def _hours(value: float) -> str:
    return f"{value:g}"


def promises(th: Any, lang: str = "zh") -> list[str]:
    """The time limits the centre promises, in the words of the notice, from the thresholds `th`."""
    if lang == "zh":
        return [
            f"受理后 {_hours(th.first_contact_hours)} 小时内与您首次联系；",
            f"受理后 {_hours(th.final_result_hours)} 小时内答复处理结果；",
            f"确需较长时间处理的，事先与您约定，并至少每 {_hours(th.progress_interval_hours)} 小时告知一次进度；",
            f"不予受理的，{_hours(th.rejection_notice_hours)} 小时内告知理由；",
            "对处理结果不满意的，可向本中心申请复核，也可拨打监督电话。",
        ]
    return [
        f"we contact you within {_hours(th.first_contact_hours)} hours of accepting your complaint;",
        f"we give you the result within {_hours(th.final_result_hours)} hours;",
        f"if it needs longer, we agree it with you and report progress at least every "
        f"{_hours(th.progress_interval_hours)} hours;",
        f"if we cannot accept a complaint, we tell you why within {_hours(th.rejection_notice_hours)} hours;",
        "if you are not satisfied with the result, ask us to review it or call the supervision number.",
    ]
