"""The only module that imports durable-rules.

Each concern of rules/catalogue.py becomes one named ruleset in durable-rules' JSON form, built from data.
Facts come from rules/facts.py; what comes back is plain `(fact_id, rule_id, outcome)` triples.

Traps handled here (measured on this machine kind, see docs/rules.md):
- the stock Host starts timer threads that race with the caller: `_QuietHost` never starts them, and no
  durable timers are used (time is a fact field);
- a fact that matches no rule makes the whole batch raise: every ruleset ends with a catch-all rule on the
  marker field `ck` that check facts carry (a catch-all on `$ex` loops forever: it also matches the session
  state); deadline facts need none, they always match exactly one outcome rule;
- facts are asserted in batches of 1000 under a session id used once, and the session is deleted after use;
  after a failed assert the whole host is discarded rather than touched again;
- an `$or` with two true branches fires twice, so alternatives are separate rules and outcomes are merged
  by severity afterwards;
- exceptions inside actions are swallowed by durable: the action records them and the batch then fails.
"""
from __future__ import annotations

import copy
import itertools
import threading
from typing import Any, Callable, Iterable

from durable import engine as _durable

from rules.catalogue import RULES, Rule

BATCH = 1000
# Deadlines that get a fact of their own (rules/facts.py `_own`); SCOPE-NOTICE shares the rejection fact.
OWN_FACT_DEADLINES = {"fc", "fr", "pg", "pr", "ar"}
VALID_GROUNDS = ("outside_business_scope", "outside_service_scope", "past_time_limit")


class EngineError(RuntimeError):
    """The rule engine failed on a batch; nothing from that batch is used."""


class _QuietHost(_durable.Host):
    """durable-rules Host without its background dispatch/timer threads (pinned to durable-rules 2.0.28)."""

    def _run(self) -> None:  # noqa: D401 - deliberately empty
        return None


def _eq(field: str, value: Any) -> dict:
    return {field: value}


def _cmp(op: str, left: str, right: str) -> dict:
    """Compare two fields of the same fact; `right` must always be present in the fact."""
    return {op: {left: {"$m": right}}}


def _deadline_conditions(p: str, own_fact: bool) -> dict[str, list[dict]]:
    """met / late / missed / at_risk / pending for one deadline.

    `own_fact`: the deadline has a fact of its own (deadlines ruleset: `dl` names it, fields `due`, `at`, ...);
    otherwise its fields carry the prefix inside a larger fact (`sn_due`, `ar_at`, ...) with `{p}_app`.
    """
    f = (lambda name: name) if own_fact else (lambda name: f"{p}_{name}")  # noqa: E731
    app = _eq("dl", p) if own_fact else _eq(f"{p}_app", 1)
    has_at = {"$ex": {f("at"): 1}}
    no_at = {"$nex": {f("at"): 1}}
    gap_ok = _cmp("$lte", f("gap"), f("int"))
    return {
        "met": [app, has_at, _cmp("$lte", f("at"), f("due")), gap_ok],
        "late": [app, has_at, _cmp("$gt", f("at"), f("due"))],
        "late#gap": [app, _cmp("$gt", f("gap"), f("int"))],
        "missed": [app, no_at, gap_ok, _cmp("$gt", "now", f("due"))],
        "at_risk": [app, no_at, gap_ok, _cmp("$gte", "now", f("warn")), _cmp("$lte", "now", f("due"))],
        "pending": [app, no_at, gap_ok, _cmp("$lt", "now", f("warn"))],
    }


def _check_conditions(rule: Rule) -> dict[str, list[dict]]:
    """Conditions of the non-deadline rules: outcome name (with an optional #variant) -> $and terms."""
    missing = lambda field: _eq(f"d_{field}", 0)  # noqa: E731
    if rule.id == "SCOPE-REJECTED":
        return {"review": [_eq("rej", 1), _eq("rev", 0)]}
    if rule.id == "SCOPE-GROUND":
        return {"breached": [_eq("rej", 1)] + [{"$neq": {"rej_reason": g}} for g in VALID_GROUNDS]}
    if rule.id == "REC-ACCEPTANCE":
        fields = ("description", "true_reason", "customer_demand", "promised_reply_at", "items_confirmed")
        return {f"breached#{f}": [_eq("acc", 1), missing(f)] for f in fields}
    if rule.id == "REC-TRANSFER":
        fields = ("event_restoration", "customer_demand", "existing_problem", "solution_measures")
        return {f"breached#{f}": [_eq("tr", 1), missing(f)] for f in fields}
    if rule.id == "REC-DEPT-SOLUTION":
        return {"breached": [_eq("closed", 1), _eq("tr", 1), missing("dept_solution")]}
    if rule.id == "REC-DECISION":
        return {"breached": [_eq("closed", 1), missing("decision")]}
    if rule.id == "SAT-SURVEY":
        return {"breached#none": [_eq("closed", 1), _eq("sv", 0)],
                "breached#after": [_eq("closed", 1), _eq("sv", 1), _cmp("$gt", "sv_at", "cl_at")]}
    if rule.id == "SAT-ROOT-CAUSE":
        return {"breached": [_eq("dis", 1), _eq("d_cause", 0)]}
    if rule.id == "SAT-ALTERNATIVES":
        base = [_eq("dis", 1), _eq("exc", 1), _eq("d_alt", 0)]
        return {"review": base + [_eq("closed", 0)], "breached": base + [_eq("closed", 1)]}
    if rule.id == "ARC-TYPICAL":
        return {"breached": [_eq("typ", 1), _eq("d_summary", 0)]}
    raise KeyError(f"no conditions for rule {rule.id}")


def conditions(rule: Rule) -> dict[str, list[dict]]:
    if rule.kind == "deadline":
        return _deadline_conditions(rule.prefix, own_fact=rule.prefix in OWN_FACT_DEADLINES)
    return _check_conditions(rule)


class RuleEngine:
    """Registered rulesets plus a thread-safe `run(concern, facts)`.

    Each call uses fresh session ids, so concurrent callers (two Streamlit sessions) never share state.
    """

    _generation = itertools.count(1)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._collect: dict[str, list[tuple[str, str, str]]] = {}
        self._errors: dict[str, list[str]] = {}
        self._host: _QuietHost | None = None
        self._names: dict[str, str] = {}
        self._build()

    def _action(self, rule_id: str, outcome: str) -> Callable[[Any], None]:
        collect, errors = self._collect, self._errors

        def run(c: Any) -> None:
            facts = c.m if isinstance(c.m, list) else [c.m]
            sid = None
            try:
                for m in facts:
                    sid = m["sid"]
                    collect[sid].append((m["id"], rule_id, outcome))
            except Exception as exc:  # durable would swallow it; make the batch fail instead
                errors.setdefault(sid or "?", []).append(f"{rule_id}: {exc!r}")

        return run

    def definitions(self, generation: int) -> dict[str, dict]:
        rulesets: dict[str, dict] = {}
        for concern in ("deadlines", "scope", "records", "satisfaction", "archive"):
            name = f"{concern}_g{generation}"
            body: dict[str, dict] = {}
            for rule in (r for r in RULES if r.concern == concern):
                for variant, terms in conditions(rule).items():
                    outcome = variant.split("#")[0]
                    body[f"{rule.id}|{variant}"] = {
                        "all": [{"m": {"$and": terms}}],
                        "cap": BATCH,
                        "run": self._action(rule.id, outcome),
                    }
            # Only check facts (`ck`) can match no rule; deadline facts always match exactly one outcome, so
            # they skip the catch-all (a firing, and a JSON round trip, saved per fact). A fact that matched
            # nothing would make the batch raise: a mistake here cannot go unnoticed.
            body["catch_all"] = {"all": [{"m": {"ck": 1}}], "cap": BATCH, "run": self._action("", "")}
            rulesets[name] = body
            self._names[concern] = name
        return rulesets

    def _build(self) -> None:
        generation = next(self._generation)
        host = _QuietHost()
        # register_rulesets mutates what it is given (it pops the actions): hand it a copy.
        host.register_rulesets(copy.deepcopy(self.definitions(generation)))
        self._host = host

    def run(self, concern: str, facts: Iterable[dict]) -> list[tuple[str, str, str]]:
        """Assert facts (each with an ASCII `id`) and return (fact_id, rule_id, outcome) for every firing."""
        results: list[tuple[str, str, str]] = []
        batch: list[dict] = []
        for fact in facts:
            batch.append(fact)
            if len(batch) == BATCH:
                results.extend(self._run_batch(concern, batch))
                batch = []
        if batch:
            results.extend(self._run_batch(concern, batch))
        return results

    def _run_batch(self, concern: str, batch: list[dict]) -> list[tuple[str, str, str]]:
        with self._lock:
            host, name = self._host, self._names[concern]
            sid = f"s{next(self._sids)}"
        self._collect[sid] = []
        try:
            for fact in batch:
                fact["sid"] = sid
            try:
                host.assert_facts(name, batch)
            except Exception as exc:
                with self._lock:
                    if self._host is host:  # a failed assert can leave the native state unusable
                        self._build()
                raise EngineError(f"rule engine failed on a batch of {len(batch)} {concern} facts: {exc}") from exc
            state = host.get_state(name, sid)
            host.delete_state(name, sid)
            errors = self._errors.pop(sid, None)
            if errors or "exception" in state:
                raise EngineError(f"rule action failed: {errors or state.get('exception')}")
            return [r for r in self._collect[sid] if r[1]]
        finally:
            self._collect.pop(sid, None)


_shared: RuleEngine | None = None
_shared_lock = threading.Lock()


def shared_engine() -> RuleEngine:
    """One engine per process: rulesets are registered once, whatever Streamlit re-runs."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RuleEngine()
        return _shared


def trivial_ceiling(facts: list[dict]) -> int:
    """Push facts through a one-rule ruleset with the same batching (the benchmark's engine ceiling)."""
    host = _QuietHost()
    fired = [0]

    def count(c: Any) -> None:
        fired[0] += len(c.m) if isinstance(c.m, list) else 1

    name = f"trivial_g{next(RuleEngine._generation)}"
    host.register_rulesets({name: {"all": {"all": [{"m": {"k": 1}}], "cap": BATCH, "run": count}}})
    # the marker `k` is set on every fact below, so the one rule fires once per fact
    for start in range(0, len(facts), BATCH):
        sid = f"t{start}"
        batch = facts[start:start + BATCH]
        for fact in batch:
            fact["sid"] = sid
            fact["k"] = 1
        host.assert_facts(name, batch)
        host.delete_state(name, sid)
    return fired[0]
