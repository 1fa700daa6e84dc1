"""The problem register's rules (10.2.1, in the manner of CAPA / problem management): the states a problem
goes through and what each step needs before it may be taken.

new → root_cause → actions → verifying → closed | not_effective; not_effective → root_cause (analyse
again); any open state may step back one. Closing needs an effectiveness check that found the fix
effective, or a written reason (at least MIN_REASON characters) why the problem closes without one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.i18n import Said

STATES = ("new", "root_cause", "actions", "verifying", "closed", "not_effective")
OPEN_STATES = ("new", "root_cause", "actions", "verifying", "not_effective")
CAUSES = ("network_coverage", "billing_rules", "product_design", "marketing_practice", "staff_behaviour",
          "process", "system", "third_party")
ACTION_KINDS = ("immediate", "corrective", "preventive")
ACTION_STATES = ("open", "done", "cancelled")
MAX_WHYS = 5
MIN_REASON = 10
FORWARD = {"new": "root_cause", "root_cause": "actions", "actions": "verifying"}
BACK = {"root_cause": "new", "actions": "root_cause", "verifying": "actions", "not_effective": "root_cause"}


@dataclass(frozen=True)
class ProblemFacts:
    """What the rules look at."""

    state: str
    statement: str = ""
    cases: int = 0
    cause_category: str | None = None
    root_cause: str | None = None
    whys: tuple[str, ...] = ()
    fixed_at: datetime | None = None
    actions: tuple[tuple[str, str], ...] = ()  # (kind, state)
    last_verdict: str | None = None
    close_reason: str | None = None
    extra: dict = field(default_factory=dict)


def next_states(state: str) -> list[str]:
    out = []
    if state in FORWARD:
        out.append(FORWARD[state])
    if state == "verifying":
        out += ["closed", "not_effective"]
    if state in BACK:
        out.append(BACK[state])
    return out


def blockers(facts: ProblemFacts, target: str) -> list[Said]:
    """Why the problem may not move to `target` (empty: it may)."""
    if target not in next_states(facts.state):
        return [Said("err.capa.transition", current=facts.state, target=target)]
    if BACK.get(facts.state) == target:  # stepping back (or analysing again) needs nothing
        return []
    out: list[Said] = []
    if target == "root_cause":
        if not facts.statement.strip():
            out.append(Said("err.capa.statement"))
        if facts.cases < 1:
            out.append(Said("err.capa.cases"))
    elif target == "actions":
        if facts.cause_category not in CAUSES:
            out.append(Said("err.capa.cause"))
        if not (facts.root_cause or "").strip() and not any(w.strip() for w in facts.whys):
            out.append(Said("err.capa.analysis"))
    elif target == "verifying":
        if not any(kind in ("corrective", "preventive") and state == "done" for kind, state in facts.actions):
            out.append(Said("err.capa.fix_done"))
        if facts.fixed_at is None:
            out.append(Said("err.capa.fixed_at"))
    elif target == "closed":
        if facts.last_verdict != "effective" and len((facts.close_reason or "").strip()) < MIN_REASON:
            out.append(Said("err.capa.close", chars=MIN_REASON))
    elif target == "not_effective":
        if facts.last_verdict != "not_effective" and len((facts.close_reason or "").strip()) < MIN_REASON:
            out.append(Said("err.capa.not_effective", chars=MIN_REASON))
    return out


def overdue(due_at: datetime, state: str, now: datetime) -> bool:
    return state == "open" and due_at < now
