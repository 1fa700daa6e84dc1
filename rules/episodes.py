"""Deadline episodes: what the deadline rules say at every instant of a case's history, so that a past
instant can be replayed with a range query instead of a fresh evaluation.

An evaluation as of T (`evaluate(cases, T)`) sees only what had happened by T. For each deadline rule a
case goes through stretches of time in which the deadline that applies is fixed: the first-contact and
final-result deadlines from receipt on; a case declared long-running leaves the final-result deadline at
that moment (if it was declared before that due) and from then on has one progress deadline per stretch
between two progress points; the archive deadline exists from closing on. An *episode* is one such
stretch: active from `active_from` until `active_until` (exclusive; None = still), with its due and
warning times, and `fulfilled_at` — when it stopped being owed (the fulfilling event).

At an instant T inside an episode, the engine's outcome is
- at_risk when the episode is not fulfilled by T and warn_at <= T <= due_at,
- missed (breached, still owed) when it is not fulfilled by T and T > due_at,
which is what the board replays (tests/test_replay.py compares the two at many instants). Progress
stretches after a gap longer than the interval are not episodes: from then on the rule's outcome is
`late` (breached for good), never at_risk or missed.

The arithmetic is in whole epoch seconds, exactly as rules/facts.py does it for the engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rules.thresholds import Thresholds

H = 3600


@dataclass(frozen=True)
class Episode:
    rule_id: str
    active_from: datetime
    active_until: datetime | None
    due_at: datetime
    warn_at: datetime
    fulfilled_at: datetime | None


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


# An episode in epoch seconds: (rule_id, active_from, active_until or None, due, warn, fulfilled or None).
Span = tuple


def _episode(rule_id: str, start: int, until: int | None, due: int, warn_s: int, done: int | None) -> Span | None:
    if until is not None and until <= start:
        return None  # an empty stretch (two events at the same second, or a declaration before receipt)
    return (rule_id, start, until, due, due - warn_s, done)


def episodes(case: dict[str, Any], th: Thresholds) -> list[Episode]:
    """Every deadline episode of one case (a dict as rules/ takes it: interchange fields and contacts)."""
    return [Episode(rule_id, _dt(start), None if until is None else _dt(until), _dt(due), _dt(warn),
                    None if done is None else _dt(done))
            for rule_id, start, until, due, warn, done in spans(case, th)]


def spans(case: dict[str, Any], th: Thresholds) -> list[Span]:
    """The same episodes as epoch-second tuples (bulk evaluations compute them by the million)."""
    rcv = _ts(case["received_at"])
    warn_s = round(th.warn_hours * H)
    contacts = sorted((_ts(t), k) for t, k in case.get("contacts") or ())
    out: list[Span | None] = []
    if case.get("acceptance") == "accepted":
        first = contacts[0][0] if contacts else None
        final = next((t for t, k in contacts if k == "final"), None)
        out.append(_episode("SLA-FIRST-CONTACT", rcv, None, rcv + round(th.first_contact_hours * H), warn_s, first))
        fr_due = rcv + round(th.final_result_hours * H)
        lrs_value = case.get("long_running_since")
        lrs = None if lrs_value is None else _ts(lrs_value)
        if lrs is not None and lrs <= fr_due:
            out.append(_episode("SLA-FINAL-RESULT", rcv, lrs, fr_due, warn_s, final))
            out.extend(_progress(case, th, max(lrs, rcv), lrs, contacts, final, warn_s))
        else:
            out.append(_episode("SLA-FINAL-RESULT", rcv, None, fr_due, warn_s, final))
    promised = case.get("promised_reply_at")
    if promised is not None:
        due = _ts(promised)
        reply = next((t for t, _k in contacts if rcv < t <= due), None)
        out.append(_episode("SLA-PROMISED-REPLY", rcv, None, due, warn_s, reply))
    if case.get("acceptance") == "rejected":
        informed = case.get("rejection_informed_at")
        out.append(_episode("SCOPE-NOTICE", rcv, None, rcv + round(th.rejection_notice_hours * H), warn_s,
                            None if informed is None else _ts(informed)))
    closed = case.get("closed_at")
    if closed is not None:
        archived = case.get("archived_at")
        out.append(_episode("ARC-ARCHIVE", _ts(closed), None, _ts(closed) + round(th.archive_days * 24 * H), warn_s,
                            None if archived is None else _ts(archived)))
    return [e for e in out if e is not None]


def _progress(case: dict[str, Any], th: Thresholds, start: int, lrs: int, contacts: list[tuple[int, str]],
              final: int | None, warn_s: int) -> list[Span | None]:
    """One episode per stretch between progress points (the declaration, then every contact after it up to
    the final result), while no gap so far exceeded the interval."""
    agreed = case.get("progress_interval_hours")
    interval = round((agreed if agreed else th.progress_interval_hours) * H)
    points = [lrs] + [t for t, _k in contacts if t > lrs and (final is None or t <= final)]
    out: list[Span | None] = []
    for i, point in enumerate(points):
        if final is not None and point >= final:
            break  # from the final result on, the deadline is fulfilled
        if i and point - points[i - 1] > interval:
            break  # a gap too long: breached for good from here on
        until = points[i + 1] if i + 1 < len(points) else None
        out.append(_episode("SLA-PROGRESS", max(point, start), until, point + interval, warn_s, None))
    return out
