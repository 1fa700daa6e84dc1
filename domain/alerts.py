"""Alert policies: when a deadline is pushed to whom, and through which channel — pure data and time
arithmetic (no I/O).

A policy is a list of triggers. A trigger belongs to one deadline rule (or NOTICE: a 督办 notice still
unanswered at its reply-by time) and one escalation level, and fires
- `before` the due time: when `percent` of the allowed time has passed, or `hours` before the due time;
- at `breach`: at the due time;
- `after` the breach: `hours` after the due time;
then again every `repeat_hours` while the deadline is still owed, at most `max_repeats` times. Its targets
are the handler, the team's channel, the team lead and the centre manager. Quiet hours hold a message
until they end, unless the trigger is urgent. The defaults follow the standard's clocks: 75 % of the 24 h
first contact and 4 h before the 48 h result to the handler and the team, the team lead at breach, the
manager 4 h after.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from domain.i18n import Said

NOTICE = "NOTICE"
WHEN = ("before", "breach", "after")
TARGETS = ("handler", "team", "team_lead", "manager")
KINDS = ("wecom", "dingtalk", "feishu", "email")
DEADLINE_RULES = ("SLA-FIRST-CONTACT", "SLA-FINAL-RESULT", "SLA-PROGRESS", "SLA-PROMISED-REPLY", "SCOPE-NOTICE",
                  "ARC-ARCHIVE")


class PolicyInvalid(ValueError):
    """A policy that cannot be saved; the message names the trigger and the field."""


@dataclass(frozen=True)
class Trigger:
    rule_id: str
    level: int
    when: str
    targets: tuple[str, ...]
    percent: float | None = None
    hours: float | None = None
    repeat_hours: float = 0.0
    max_repeats: int = 0
    urgent: bool = False
    via: tuple[str, ...] = ()  # channel kinds this level uses (wecom, dingtalk, feishu, email); empty: all

    def offset(self, allowed: timedelta) -> timedelta:
        """When it fires, relative to the due time (negative: before)."""
        if self.when == "before":
            if self.percent is not None:
                return -allowed * (1 - self.percent / 100)
            return -timedelta(hours=self.hours or 0)
        if self.when == "after":
            return timedelta(hours=self.hours or 0)
        return timedelta(0)

    def firings(self, due: datetime, allowed: timedelta) -> list[tuple[int, datetime]]:
        """(occurrence, instant) of every firing, the first and its repeats."""
        first = due + self.offset(allowed)
        out = [(0, first)]
        if self.repeat_hours > 0:
            out += [(k, first + timedelta(hours=self.repeat_hours * k)) for k in range(1, self.max_repeats + 1)]
        return out


@dataclass(frozen=True)
class Policy:
    triggers: tuple[Trigger, ...]
    quiet_start: time | None = time(22, 0)  # local time; None: no quiet hours
    quiet_end: time | None = time(7, 30)
    teams: tuple[str, ...] = ()  # filters (empty: all)
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    version: int = 0
    quiet: dict = field(default_factory=dict, compare=False)  # per channel kind: (start, end), overriding the above

    def for_rule(self, rule_id: str) -> list[Trigger]:
        return [t for t in self.triggers if t.rule_id == rule_id]

    def release(self, at: datetime, zone: ZoneInfo, urgent: bool, kind: str = "") -> datetime:
        """When a message decided at `at` may go out through a channel of this kind: at once, or when its
        quiet hours end."""
        start, end = self.quiet.get(kind, (self.quiet_start, self.quiet_end))
        if urgent or start is None or end is None:
            return at
        local = at.astimezone(zone)
        t = local.timetz().replace(tzinfo=None)
        overnight = start > end
        inside = (t >= start or t < end) if overnight else (start <= t < end)
        if not inside:
            return at
        day = local.date() + timedelta(days=1) if overnight and t >= start else local.date()
        return datetime.combine(day, end, tzinfo=zone).astimezone(at.tzinfo)


def _trigger(rule_id: str, level: int, when: str, targets: Iterable[str], **kw: Any) -> Trigger:
    return Trigger(rule_id, level, when, tuple(targets), **kw)


DEFAULT = Policy(triggers=(
    _trigger("SLA-FIRST-CONTACT", 1, "before", ("handler", "team"), percent=75),
    _trigger("SLA-FIRST-CONTACT", 2, "breach", ("team_lead",), repeat_hours=4, max_repeats=2),
    _trigger("SLA-FIRST-CONTACT", 3, "after", ("manager",), hours=4),
    _trigger("SLA-FINAL-RESULT", 1, "before", ("handler", "team"), hours=4),
    _trigger("SLA-FINAL-RESULT", 2, "breach", ("team_lead",), repeat_hours=4, max_repeats=2),
    _trigger("SLA-FINAL-RESULT", 3, "after", ("manager",), hours=4),
    _trigger("SLA-PROGRESS", 1, "before", ("handler",), hours=4),
    _trigger("SLA-PROGRESS", 2, "breach", ("team_lead",)),
    _trigger("SLA-PROMISED-REPLY", 1, "before", ("handler", "team"), hours=4),
    _trigger("SLA-PROMISED-REPLY", 2, "breach", ("team_lead",)),
    _trigger("SCOPE-NOTICE", 1, "before", ("handler",), hours=4),
    _trigger("SCOPE-NOTICE", 2, "breach", ("team_lead",)),
    _trigger(NOTICE, 1, "breach", ("team_lead",)),
))


def validate(raw: Any) -> Policy:
    """A policy from its stored or edited form (dict or JSON text); PolicyInvalid names the problem."""
    data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    triggers = []
    for n, t in enumerate(data.get("triggers") or [], start=1):
        rule = str(t.get("rule_id") or "")
        if rule not in DEADLINE_RULES + (NOTICE,):
            raise PolicyInvalid(Said("err.alerts.3", n=n, rule=repr(rule)))
        when = str(t.get("when") or "")
        if when not in WHEN:
            raise PolicyInvalid(Said("err.alerts.4", n=n, value=', '.join(WHEN)))
        targets = tuple(t.get("targets") or ())
        if not targets or any(x not in TARGETS for x in targets):
            raise PolicyInvalid(Said("err.alerts.5", n=n, value=', '.join(TARGETS)))
        try:
            level = int(t.get("level", 1))
            percent = None if t.get("percent") in (None, "") else float(t["percent"])
            hours = None if t.get("hours") in (None, "") else float(t["hours"])
            repeat = float(t.get("repeat_hours") or 0)
            repeats = int(t.get("max_repeats") or 0)
        except (TypeError, ValueError):
            raise PolicyInvalid(Said("err.alerts.12", n=n)) from None
        if when == "before" and percent is None and hours is None:
            raise PolicyInvalid(Said("err.alerts.6", n=n))
        if percent is not None and not 0 < percent < 100:
            raise PolicyInvalid(Said("err.alerts.7", n=n))
        if (hours is not None and not 0 <= hours <= 720) or not 0 <= repeat <= 168 or not 0 <= repeats <= 20:
            raise PolicyInvalid(Said("err.alerts.8", n=n))
        if not 1 <= level <= 9:
            raise PolicyInvalid(Said("err.alerts.9", n=n))
        via = tuple(t.get("via") or ())
        if any(v not in KINDS for v in via):
            raise PolicyInvalid(Said("err.alerts.10", n=n, value=', '.join(KINDS)))
        triggers.append(Trigger(rule, level, when, targets, percent, hours, repeat, repeats, bool(t.get("urgent")), via))
    if not triggers:
        raise PolicyInvalid(Said("err.alerts.1"))
    keys = [(t.rule_id, t.level) for t in triggers]
    if len(set(keys)) != len(keys):
        raise PolicyInvalid(Said("err.alerts.2"))

    def clock(value: Any) -> time | None:
        if value in (None, ""):
            return None
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise PolicyInvalid(Said("err.alerts.13", value=repr(value))) from None

    quiet = {}
    for kind, pair in (data.get("quiet") or {}).items():
        if kind not in KINDS or not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise PolicyInvalid(Said("err.alerts.11", kind=repr(kind), value=', '.join(KINDS)))
        quiet[kind] = (clock(pair[0]), clock(pair[1]))
    return Policy(tuple(triggers), clock(data.get("quiet_start")), clock(data.get("quiet_end")),
                  tuple(data.get("teams") or ()), tuple(data.get("categories") or ()), tuple(data.get("channels") or ()),
                  int(data.get("version") or 0), quiet)


def dumps(policy: Policy) -> str:
    return json.dumps({
        "triggers": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(t).items()} for t in policy.triggers],
        "quiet_start": policy.quiet_start.isoformat("minutes") if policy.quiet_start else None,
        "quiet_end": policy.quiet_end.isoformat("minutes") if policy.quiet_end else None,
        "teams": list(policy.teams), "categories": list(policy.categories), "channels": list(policy.channels),
        "version": policy.version,
        "quiet": {k: [a.isoformat("minutes") if a else None, b.isoformat("minutes") if b else None]
                  for k, (a, b) in policy.quiet.items()},
    }, ensure_ascii=False)


LEVEL_WORDS = {"before": "即将到期", "breach": "已超时", "after": "超时升级"}


def line(case_no: str, rule_title: str, clause: str, handler: str, due: datetime, now: datetime, zone: ZoneInfo,
         when: str) -> str:
    """One deadline in a message: case number, rule, clause, handler, due time and time left — never the
    customer's name or number."""
    left = due - now
    minutes = int(abs(left.total_seconds()) // 60)
    span = f"{minutes // 60}小时{minutes % 60}分"
    state = f"剩余 {span}" if left.total_seconds() >= 0 else f"已超时 {span}"
    return (f"【{LEVEL_WORDS.get(when, '提醒')}】{case_no} · {rule_title}（{clause}）· 处理人 {handler} · "
            f"到期 {due.astimezone(zone):%m-%d %H:%M} · {state}")
