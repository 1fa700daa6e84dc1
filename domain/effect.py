"""Whether a fix worked (10.2.1): compare the problem's complaint count in an equal window before and after
the fix with an exact rate-ratio test.

Counts are Poisson with exposures E_before and E_after (the window's days, or all complaints registered in
it when the rate is per 10k cases). Given n = before + after, `after` is binomial with
p0 = E_after / (E_before + E_after) when the rate did not change. The rate ratio
RR = (after / E_after) / (before / E_before) = pi / (1 - pi) * E_before / E_after, so the exact
(Clopper-Pearson) interval of pi gives the interval of RR. One-sided p-value: P(X <= after | n, p0).

Verdict:
- effective (有效): the interval's upper end is below 1 — the rate fell, beyond chance;
- not effective (无效): the interval's lower end is above 1 - `worthwhile` — the data rule out a reduction of
  the size the fix was meant to bring (20 % unless told);
- inconclusive (尚无结论): neither, or the after-window has not ended, or no complaints at all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import binomtest

EFFECTIVE, NOT_EFFECTIVE, INCONCLUSIVE = "effective", "not_effective", "inconclusive"
VERDICTS = (EFFECTIVE, NOT_EFFECTIVE, INCONCLUSIVE)
BASES = ("day", "cases")  # per day, or per 10k registered complaints
DEFAULT_WORTHWHILE = 0.2


@dataclass(frozen=True)
class RateCheck:
    before: int
    after: int
    before_exposure: float
    after_exposure: float
    ratio: float | None
    low: float | None
    high: float | None
    p_value: float | None
    verdict: str
    reason: str = ""  # why inconclusive before any test: "no_cases", "no_exposure"

    def rate(self, which: str, per: float = 1.0) -> float | None:
        count, exposure = (self.before, self.before_exposure) if which == "before" else (self.after, self.after_exposure)
        return count / exposure * per if exposure else None


def _rr(pi: float, scale: float) -> float:
    return math.inf if pi >= 1 else pi / (1 - pi) * scale


def rate_ratio(before: int, after: int, before_exposure: float, after_exposure: float,
               worthwhile: float = DEFAULT_WORTHWHILE, confidence: float = 0.95) -> RateCheck:
    if before < 0 or after < 0:
        raise ValueError("counts cannot be negative")
    if not 0 < worthwhile < 1:
        raise ValueError("worthwhile reduction must be between 0 and 1")
    if before_exposure <= 0 or after_exposure <= 0:
        return RateCheck(before, after, before_exposure, after_exposure, None, None, None, None, INCONCLUSIVE, "no_exposure")
    n = before + after
    if n == 0:
        return RateCheck(before, after, before_exposure, after_exposure, None, None, None, None, INCONCLUSIVE, "no_cases")
    p0 = after_exposure / (before_exposure + after_exposure)
    test = binomtest(after, n, p0, alternative="less")
    interval = binomtest(after, n, p0).proportion_ci(confidence_level=confidence, method="exact")
    scale = before_exposure / after_exposure
    ratio = math.inf if before == 0 else (after / after_exposure) / (before / before_exposure)
    low, high = _rr(interval.low, scale), _rr(interval.high, scale)
    if high < 1:
        verdict = EFFECTIVE
    elif low > 1 - worthwhile:
        verdict = NOT_EFFECTIVE
    else:
        verdict = INCONCLUSIVE
    return RateCheck(before, after, before_exposure, after_exposure, ratio, low, high, float(test.pvalue), verdict)
