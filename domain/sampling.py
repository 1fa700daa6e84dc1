"""Drawing inspection samples from a population of cases (6.3): simple random, stratified, per-handler quota,
risk-weighted, and lowest automatic score (the cases the engine scored worst, for a human look). Pure pandas/numpy: the same population, method, parameters and seed always give the same
sample, so a sample can be drawn again and defended.

The population is a DataFrame with at least: case_id, team, handler, category, channel, month, flagged (and
auto_score for `lowest_auto`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from math import floor

import numpy as np
import pandas as pd

from domain.i18n import Said

METHODS = ("random", "stratified", "quota", "risk", "lowest_auto")
STRATA = ("team", "category", "channel", "handler")


@dataclass
class Method:
    method: str = "random"
    size: int | None = None  # number of cases ...
    percent: float | None = None  # ... or a share of the population (one of the two)
    strata: list[str] = field(default_factory=lambda: ["team"])  # stratified: the columns that make a stratum
    minimum: int = 1  # stratified: at least this many per stratum (or the whole stratum when smaller)
    per_handler: int = 5  # quota: cases per handler and month
    weight: float = 3.0  # risk: how many times likelier a flagged case is drawn

    def to_dict(self) -> dict:
        return asdict(self)


class SampleInvalid(ValueError):
    """Parameters that cannot give a sample; the message names the field."""


def target_size(m: Method, population: int) -> int:
    if m.size is not None and m.percent is not None:
        raise SampleInvalid(Said("err.sampling.2"))
    if m.size is not None:
        if m.size < 1:
            raise SampleInvalid(Said("err.sampling.8"))
        return min(int(m.size), population)
    if m.percent is not None:
        if not 0 < m.percent <= 100:
            raise SampleInvalid(Said("err.sampling.9"))
        return min(population, max(1, round(population * m.percent / 100)))
    raise SampleInvalid(Said("err.sampling.1"))


def size_note(population: int, m: Method, drawn: int) -> tuple[str, dict] | None:
    """Why the sample's size differs from the size asked for, as a message key and its values (None when
    it does not differ, or when the method asks for no single size: a quota per handler and month)."""
    if m.method == "quota" or population == 0:
        return None
    asked = int(m.size) if m.size is not None else target_size(m, population)
    if m.size is not None and asked > population:
        return "qa.size.population_smaller", {"asked": asked, "population": population, "drawn": drawn}
    if drawn > asked:  # stratified: every stratum gets at least the minimum (or the whole stratum)
        return "qa.size.minimum", {"asked": asked, "drawn": drawn, "extra": drawn - asked, "minimum": m.minimum}
    return None


def draw(population: pd.DataFrame, m: Method, seed: int) -> pd.DataFrame:
    """The sample: rows of `population` with a `stratum` column, in case_id order."""
    if m.method not in METHODS:
        raise SampleInvalid(Said("err.sampling.3", method=repr(m.method)))
    pop = population.sort_values("case_id", kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    if pop.empty:
        return pop.assign(stratum=pd.Series(dtype=str))
    if m.method == "random":
        n = target_size(m, len(pop))
        picked = pop.iloc[np.sort(rng.choice(len(pop), size=n, replace=False))].assign(stratum="")
    elif m.method == "stratified":
        picked = _stratified(pop, m, rng)
    elif m.method == "quota":
        picked = _quota(pop, m, rng)
    elif m.method == "lowest_auto":
        picked = _lowest_auto(pop, m, rng)
    else:
        picked = _risk(pop, m, rng)
    return picked.sort_values("case_id", kind="stable").reset_index(drop=True)


def allocate(sizes: dict[str, int], n: int, minimum: int) -> dict[str, int]:
    """Proportional allocation of n over strata (largest remainder), at least `minimum` per stratum (or the
    whole stratum when it is smaller). The minimums can make the total exceed n: they are a promise."""
    total = sum(sizes.values())
    if total == 0:
        return {k: 0 for k in sizes}
    quotas = {k: n * s / total for k, s in sizes.items()}
    alloc = {k: floor(q) for k, q in quotas.items()}
    rest = n - sum(alloc.values())
    for k in sorted(sizes, key=lambda k: (-(quotas[k] - alloc[k]), k))[:rest]:
        alloc[k] += 1
    return {k: min(sizes[k], max(alloc[k], minimum)) for k in sizes}


def _stratum_keys(pop: pd.DataFrame, columns: list[str]) -> pd.Series:
    bad = [c for c in columns if c not in STRATA]
    if not columns or bad:
        raise SampleInvalid(Said("err.sampling.4", value=', '.join(STRATA)))
    parts = [pop[c].fillna("—").astype(str) for c in columns]
    keys = parts[0]
    for part in parts[1:]:
        keys = keys + " / " + part
    return keys


def _stratified(pop: pd.DataFrame, m: Method, rng: np.random.Generator) -> pd.DataFrame:
    if m.minimum < 0:
        raise SampleInvalid(Said("err.sampling.5"))
    n = target_size(m, len(pop))
    keys = _stratum_keys(pop, m.strata)
    pop = pop.assign(stratum=keys)
    sizes = keys.value_counts().to_dict()
    alloc = allocate(sizes, n, m.minimum)
    return _per_group(pop, alloc, rng)


def _per_group(pop: pd.DataFrame, take: dict[str, int], rng: np.random.Generator) -> pd.DataFrame:
    """Draw take[stratum] rows from each stratum, strata in sorted order (so the seed's stream is used the
    same way every time), rows within a stratum in case_id order."""
    groups = pop.groupby("stratum", sort=True).indices  # stratum -> row positions, in row (case_id) order
    picked = []
    for key, positions in groups.items():
        k = take.get(key, 0)
        if k:
            picked.append(positions[np.sort(rng.choice(len(positions), size=k, replace=False))])
    return pop.iloc[np.concatenate(picked)] if picked else pop.iloc[0:0]


def _quota(pop: pd.DataFrame, m: Method, rng: np.random.Generator) -> pd.DataFrame:
    if m.per_handler < 1:
        raise SampleInvalid(Said("err.sampling.6"))
    pop = pop.assign(stratum=pop["handler"].fillna("—").astype(str) + " / " + pop["month"].astype(str))
    sizes = pop["stratum"].value_counts().to_dict()
    return _per_group(pop, {k: min(m.per_handler, n) for k, n in sizes.items()}, rng)


def _risk(pop: pd.DataFrame, m: Method, rng: np.random.Generator) -> pd.DataFrame:
    """Weighted sampling without replacement (Efraimidis–Spirakis keys u^(1/w)): a flagged case is `weight`
    times likelier to be drawn at every step than one without flags."""
    if not m.weight >= 1:
        raise SampleInvalid(Said("err.sampling.7"))
    n = target_size(m, len(pop))
    weights = np.where(pop["flagged"].to_numpy(dtype=bool), float(m.weight), 1.0)
    keys = rng.random(len(pop)) ** (1.0 / weights)
    order = np.argsort(-keys, kind="stable")[:n]
    picked = pop.iloc[np.sort(order)]
    return picked.assign(stratum=np.where(picked["flagged"].to_numpy(dtype=bool), "flagged", "unflagged"))


def _lowest_auto(pop: pd.DataFrame, m: Method, rng: np.random.Generator) -> pd.DataFrame:
    """The n cases with the lowest automatic score; cases the engine could not score come last; equal
    scores are ordered by the seed (so the same seed gives the same sample)."""
    n = target_size(m, len(pop))
    scores = pd.to_numeric(pop["auto_score"], errors="coerce").to_numpy(dtype=float)
    scores = np.where(np.isnan(scores), np.inf, scores)
    order = np.lexsort((rng.random(len(pop)), scores))[:n]
    return pop.iloc[np.sort(order)].assign(stratum="")


def assign(sample: pd.DataFrame, inspectors: list[str], seed: int, calibration: bool = False) -> list[tuple[int, str]]:
    """(case_id, inspector) pairs. A regular sample is dealt round-robin in a seeded random order, so the
    work is even and nobody chooses their cases; a calibration sample goes to every inspector."""
    ids = sample["case_id"].tolist()
    if not inspectors:
        return [(cid, "") for cid in ids]
    people = sorted(set(inspectors))
    if calibration:
        return [(cid, who) for cid in ids for who in people]
    order = np.random.default_rng(seed + 1).permutation(len(ids))
    return [(ids[i], people[n % len(people)]) for n, i in enumerate(order)]
