"""The end-to-end walk (全流程穿越, 10.2.2): a manager or inspector takes one complaint through the handling
flow of Appendix A and judges each step; the steps and the clauses they answer to."""
from __future__ import annotations

# (key, clauses) in the order of Appendix A: listen and record → accept or not → check and analyse (or
# handle at once) → solution → answer → satisfaction → archive → summary and improvement
STEPS = (
    ("listen_record", "8.2.1, 8.2.2"),
    ("acceptance", "7.1, 8.3.4"),
    ("analysis", "8.3.1, 8.3.2, 8.3.3"),
    ("solution", "8.3.3, 8.3.6"),
    ("answer", "8.3.4, 8.3.5"),
    ("satisfaction", "9.1, 9.2, 9.3"),
    ("archive", "10.1"),
    ("improvement", "10.2"),
)
STEP_KEYS = tuple(k for k, _c in STEPS)
CLAUSES = dict(STEPS)
VERDICTS = ("good", "poor", "na")  # done well / fell short / does not apply to this case


def findings(verdicts: dict[str, str]) -> list[str]:
    """The steps judged to fall short, in the flow's order."""
    return [k for k in STEP_KEYS if verdicts.get(k) == "poor"]
