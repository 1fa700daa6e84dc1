"""The only module that imports durable-rules.

All 16 rules of rules/catalogue.py live in **one** durable-rules ruleset, built from data; each case is one
fact (rules/facts.py). Only outcomes that raise a flag have a rule — late, missed, at risk, breached,
review — so a compliant case never comes back to Python: what comes back is plain
`(fact position, rule_id, outcome)` triples, and rules/evaluate.py completes the picture (an applicable
deadline that raised nothing is met when fulfilled, pending otherwise).

Traps handled here (durable-rules 2.0.28, measured on this machine kind, see docs/rules.md):
- the stock Host starts timer threads that race with the caller: `_QuietHost` never starts them, and no
  durable timers are used (time is a fact field);
- a fact that matches no rule makes `Host.assert_facts` raise after processing the batch. Most facts match
  no flag rule, so the batch goes through the ruleset's own `assert_facts` and durable's native return
  code is read: 0 = every fact matched a rule, 1 = some fact matched nothing (all facts were processed),
  anything else is an error (docs/rules.md lists the internals this relies on; the version is pinned);
- facts are asserted in batches under a session id used once, and the session is deleted after use; after
  a failed assert the whole host is discarded rather than touched again;
- an `$or` with two true branches fires twice, so alternatives are separate rules and outcomes are merged
  by severity afterwards;
- exceptions inside actions are swallowed by durable: the action records them and the batch then fails.
"""
from __future__ import annotations

import copy
import itertools
import json
import threading
from typing import Any, Callable, Sequence

from durable import engine as _durable

from rules.catalogue import RULES, Rule
from rules.facts import ACCEPTANCE_MARKS, TRANSFER_MARKS, VALID_GROUNDS

BATCH = 5000
# outcomes that raise a flag, i.e. the only ones with a rule
FLAG_OUTCOMES = ("late", "missed", "at_risk", "breached", "review")


class EngineError(RuntimeError):
    """The rule engine failed on a batch; nothing from that batch is used."""


class _QuietHost(_durable.Host):
    """durable-rules Host without its background dispatch/timer threads (pinned to durable-rules 2.0.28)."""

    def _run(self) -> None:  # noqa: D401 - deliberately empty
        return None


def _cmp(op: str, field: str, value: int) -> dict:
    """Compare one fact field with a constant."""
    return {op: {field: value}}


def _deadline_conditions(p: str) -> dict[str, list[dict]]:
    """late / missed / at_risk for one deadline; the fields are signed offsets (rules/facts.py)."""
    out = {
        "late": [_cmp("$gt", p + "a", 0)],
        "missed": [_cmp("$gt", p + "n", 0)],
        "at_risk": [_cmp("$lte", p + "n", 0), _cmp("$gte", p + "w", 0)],
    }
    if p == "pg":  # a gap longer than the interval is late for good; otherwise as any deadline
        out["late#gap"] = [_cmp("$gt", "pgg", 0)]
        out["missed"].append(_cmp("$lte", "pgg", 0))
        out["at_risk"].append(_cmp("$lte", "pgg", 0))
    return out


def _check_conditions(rule: Rule) -> dict[str, list[dict]]:
    """Conditions of the non-deadline rules: outcome name (with an optional #variant) -> $and terms."""
    if rule.id == "SCOPE-REJECTED":
        return {"review": [{"rj": 1}, {"rv": 0}]}
    if rule.id == "SCOPE-GROUND":
        return {"breached": [{"rj": 1}] + [{"$neq": {"rr": g}} for g in VALID_GROUNDS]}
    if rule.id == "REC-ACCEPTANCE":
        return {f"breached#{key}": [{"ac": 1}, {key: 0}] for key in ACCEPTANCE_MARKS}
    if rule.id == "REC-TRANSFER":
        return {f"breached#{key}": [{"tr": 1}, {key: 0}] for key in TRANSFER_MARKS}
    if rule.id == "REC-DEPT-SOLUTION":
        return {"breached": [{"cl": 1}, {"tr": 1}, {"t_ds": 0}]}
    if rule.id == "REC-DECISION":
        return {"breached": [{"cl": 1}, {"dc": 0}]}
    if rule.id == "SAT-SURVEY":
        return {"breached#none": [{"cl": 1}, {"sv": 0}],
                "breached#after": [{"cl": 1}, {"sv": 1}, _cmp("$gt", "sc", 0)]}
    if rule.id == "SAT-ROOT-CAUSE":
        return {"breached": [{"ds": 1}, {"rc": 0}]}
    if rule.id == "SAT-ALTERNATIVES":
        base = [{"ds": 1}, {"ex": 1}, {"al": 0}]
        return {"review": base + [{"cl": 0}], "breached": base + [{"cl": 1}]}
    if rule.id == "ARC-TYPICAL":
        return {"breached": [{"ty": 1}, {"ts": 0}]}
    raise KeyError(f"no conditions for rule {rule.id}")


def conditions(rule: Rule) -> dict[str, list[dict]]:
    """Outcome (optionally `outcome#variant`) -> the `$and` terms that decide it, for one rule."""
    return _deadline_conditions(rule.prefix) if rule.kind == "deadline" else _check_conditions(rule)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# A fact that only the sentinel rule matches, appended to every batch: durable-rules crashes when asked to
# delete a session in which no fact matched any rule (a batch of compliant cases), and the sentinel's
# firing also proves that the engine went through the whole batch.
SENTINEL = {"zs": 1}


def batch_json(batch: Sequence[dict], sid: str, sentinel: bool = False) -> str:
    """The batch as the JSON text durable-rules parses, each fact given `id` = its position in the batch and
    the batch's session id. durable-rules tells facts of one session apart by a 32-bit FNV-1a hash of the id
    text: the ids "0" … "5000" have distinct hashes (checked by tests/test_rules.py), so no two facts of a
    batch can be mistaken for one another, however many cases an evaluation holds."""
    for k, fact in enumerate(batch):  # the facts are the evaluation's own: marking them is harmless
        fact["id"] = k
        fact["sid"] = sid
    text = _encode(batch)
    if sentinel:
        text = text[:-1] + f',{{"zs":1,"id":{len(batch)},"sid":"{sid}"}}]'
    return text


class RuleEngine:
    """The registered ruleset plus a thread-safe `run(facts)`.

    Each batch uses a fresh session id, so concurrent callers (two Streamlit sessions) never share state.
    """

    _generation = itertools.count(1)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._collect: dict[str, list[tuple[int, str, str]]] = {}
        self._errors: dict[str, list[str]] = {}
        self._host: _QuietHost | None = None
        self._name = ""
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

    def definition(self) -> dict[str, dict]:
        """The ruleset body: one rule per flag-raising outcome (and variant) of every catalogue rule."""
        body: dict[str, dict] = {}
        for rule in RULES:
            for variant, terms in conditions(rule).items():
                outcome = variant.split("#")[0]
                assert outcome in FLAG_OUTCOMES, (rule.id, variant)
                body[f"{rule.id}|{variant}"] = {"all": [{"m": {"$and": terms}}], "cap": BATCH,
                                                "run": self._action(rule.id, outcome)}
        body["sentinel"] = {"all": [{"m": SENTINEL}], "cap": 1, "run": self._action("", "")}
        return body

    def _build(self) -> None:
        name = f"cases_g{next(self._generation)}"
        host = _QuietHost()
        # register_rulesets mutates what it is given (it pops the actions): hand it a copy.
        host.register_rulesets({name: copy.deepcopy(self.definition())})
        self._host, self._name = host, name

    def run(self, facts: Sequence[dict]) -> list[tuple[int, str, str]]:
        """Assert facts and return (position in `facts`, rule_id, outcome) for every firing."""
        results: list[tuple[int, str, str]] = []
        for start in range(0, len(facts), BATCH):
            results.extend((start + k, rule_id, outcome)
                           for k, rule_id, outcome in self._run_batch(facts[start:start + BATCH]))
        return results

    def _run_batch(self, batch: Sequence[dict]) -> list[tuple[int, str, str]]:
        """One batch under a fresh session id; a fact's id is its position in the batch (see `batch_json`)."""
        with self._lock:
            host, name = self._host, self._name
            sid = f"s{next(self._sids)}"
        assert host is not None
        ruleset = host.get_ruleset(name)
        self._collect[sid] = []
        try:
            text = batch_json(batch, sid, sentinel=True)
            try:
                code, state = _durable.durable_rules_engine.assert_facts(ruleset._handle, text)
                if code not in (0, 1):  # 1: some fact matched no rule (most do: they raise nothing)
                    raise EngineError(f"durable-rules returned {code}")
                error: list[Any] = [None]

                def done(e: Any, _state: Any) -> None:
                    error[0] = e

                ruleset.do_actions(state, done)
                if error[0]:
                    raise EngineError(str(error[0]))
            except Exception as exc:
                with self._lock:
                    if self._host is host:  # a failed assert can leave the native state unusable
                        self._build()
                raise EngineError(f"rule engine failed on a batch of {len(batch)} facts: {exc}") from exc
            session = ruleset.get_state(sid)
            ruleset.delete_state(sid)
            errors = self._errors.pop(sid, None)
            if errors or "exception" in session:
                raise EngineError(f"rule action failed: {errors or session.get('exception')}")
            found = self._collect[sid]
            if not found or found[-1] != (len(batch), "", ""):  # the sentinel fires last (its rule is last)
                if (len(batch), "", "") not in found:
                    raise EngineError("rule engine skipped part of a batch: its sentinel fact never fired")
            return [r for r in found if r[1]]
        finally:
            self._collect.pop(sid, None)


_shared: RuleEngine | None = None
_shared_lock = threading.Lock()


def shared_engine() -> RuleEngine:
    """One engine per process: the ruleset is registered once, whatever Streamlit re-runs."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RuleEngine()
        return _shared


def trivial_ceiling(facts: Sequence[dict]) -> int:
    """The benchmark's engine ceiling: the same facts, batches and encoding through a one-rule ruleset
    whose single rule never matches (so nothing comes back), i.e. what durable-rules itself costs."""
    host = _QuietHost()
    name = f"trivial_g{next(RuleEngine._generation)}"
    host.register_rulesets({name: {"none": {"all": [{"m": {"$lt": {"zz": 0}}}], "cap": BATCH,
                                            "run": lambda c: None},
                                   "sentinel": {"all": [{"m": SENTINEL}], "cap": 1, "run": lambda c: None}}})
    ruleset = host.get_ruleset(name)
    n = 0
    for start in range(0, len(facts), BATCH):
        sid = f"t{start}"
        text = batch_json(facts[start:start + BATCH], sid, sentinel=True)
        code, state = _durable.durable_rules_engine.assert_facts(ruleset._handle, text)
        if code not in (0, 1):
            raise EngineError(f"durable-rules returned {code}")
        ruleset.do_actions(state, lambda _e, _s: None)
        ruleset.delete_state(sid)
        n += min(BATCH, len(facts) - start)
    return n
