"""Roles and what each may see and do. Pages and write actions check these on the server side."""
from __future__ import annotations

ROLES = ("team_lead", "inspector", "trainer", "manager", "admin", "handler")
ROLE_LABELS = {"team_lead": ("班组长", "Team lead"), "inspector": ("质检员", "Quality inspector"),
               "trainer": ("培训师", "Trainer"), "manager": ("管理人员", "Manager"), "admin": ("系统管理员", "Administrator"),
               "handler": ("处理人", "Handler")}

# page -> roles that may open it
PAGES = {
    "board": {"team_lead", "manager", "admin"},
    "search": {"team_lead", "inspector", "manager", "admin"},
    "detail": {"team_lead", "inspector", "trainer", "manager", "admin", "handler"},  # handlers: own cases only
    "mytodo": {"handler"},
    "notice": {"team_lead", "inspector", "trainer", "manager", "admin", "handler"},
    "reports": {"team_lead", "manager", "admin"},
    "alerts": {"team_lead", "manager", "admin"},
    "myqa": {"handler"},
    "disputes": {"inspector", "admin", "team_lead", "manager"},
    "rules": {"team_lead", "inspector", "manager", "admin"},
    "import": {"team_lead", "admin"},
    "profiles": {"team_lead", "admin"},
    "audit": {"admin"},
    "sampling": {"inspector", "admin"},
    "assess": {"inspector", "admin"},
    "quality": {"inspector", "team_lead", "manager", "admin"},
    "scorecards": {"inspector", "admin"},
    "calibration": {"inspector", "admin"},
    "coaching": {"inspector", "team_lead", "manager", "admin"},
    "library": {"trainer", "team_lead", "inspector", "manager", "admin"},
    "training": {"trainer", "manager", "admin"},
    "archive": {"team_lead", "admin"},
    "users": {"admin"},
    "reviews": {"team_lead", "manager", "admin"},
    "clusters": {"manager", "team_lead", "inspector", "admin"},  # writes: managers (edit_improvement)
    "problems": {"manager", "team_lead", "inspector", "admin"},  # writes: managers (edit_improvement)
    "repeats": {"manager", "team_lead", "inspector", "admin"},
    "verification": {"manager", "team_lead", "admin"},
    "walk": {"manager", "inspector", "admin"},
}
# write or sensitive action -> roles allowed
ACTIONS = {
    "import": {"team_lead", "admin"},
    "edit_import_profile": {"team_lead", "admin"},  # the people who run imports map their exports
    "delete_import_profile": {"admin"},
    "save_thresholds": {"admin"},
    "unmask": {"team_lead", "admin"},
    "edit_case": {"team_lead", "admin"},
    "manage_users": {"admin"},
    "sample": {"inspector", "admin"},
    "assess": {"inspector", "admin"},
    "edit_scorecard": {"admin"},
    "mark_typical": {"team_lead", "inspector", "trainer", "admin"},
    "export_pack": {"trainer", "team_lead", "inspector", "admin"},
    "record_training": {"trainer", "admin"},
    "archive": {"team_lead", "admin"},
    "review_rejection": {"team_lead", "manager", "admin"},
    "send_notice": {"team_lead", "admin"},
    "answer_notice": {"handler"},
    "edit_notice": {"admin"},
    "edit_alerts": {"admin"},
    "dispute": {"handler"},
    "decide_dispute": {"inspector", "admin"},
    "coach": {"inspector", "team_lead", "admin"},
    "answer_coaching": {"handler"},
    "edit_improvement": {"manager", "admin"},  # repeat policy, the problem register (10.2)
    "walk": {"manager", "inspector", "admin"},  # end-to-end walks (全流程穿越)
}


class Forbidden(PermissionError):
    pass


def may_open(role: str, page: str) -> bool:
    return role in PAGES.get(page, set())


def may(role: str, action: str) -> bool:
    return role in ACTIONS.get(action, set())


def require(role: str | None, action: str) -> None:
    if role is None or not may(role, action):
        raise Forbidden(f"role {role or 'anonymous'} may not {action}")


def role_label(role: str, lang: str = "zh") -> str:
    zh, en = ROLE_LABELS[role]
    return zh if lang == "zh" else en
