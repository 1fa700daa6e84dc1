"""Data verification (10.2.2): checks that the imported complaint data can be trusted, and the decisions a
manager takes on what they find."""
from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd

CHECKS = ("category_text", "contact_before_received", "closed_no_final", "satisfaction_no_survey", "duplicate",
          "handler_not_on_roster")
DECISIONS = ("confirmed", "corrected", "dismissed")  # a real error / sent back to be corrected upstream / not one
STATES = ("open", *DECISIONS, "gone")  # gone: an open finding no later run found again
DUPLICATE_WINDOW = timedelta(hours=24)
READS_LIKE_MARGIN = 0.15
READS_LIKE_MIN = 0.5
_SPACE = re.compile(r"[\s，。,.!！?？；;：:]+")


def reads_like(own: float, best_other: float) -> bool:
    """A case's text fits another category's problems clearly better than any of its own category's."""
    return best_other >= READS_LIKE_MIN and best_other - own >= READS_LIKE_MARGIN


def normalised(text: str | None) -> str:
    return _SPACE.sub("", text or "")


def duplicates(frame: pd.DataFrame, window: timedelta = DUPLICATE_WINDOW) -> list[tuple[int, int]]:
    """(later case id, earlier case id) for cases of the same customer and category, registered within
    `window` of an earlier one, with the same description (spacing and punctuation aside). `frame` has
    case_id, customer_key, category, received_at, description."""
    keyed = frame[frame["customer_key"].notna()].copy()
    keyed["text"] = keyed["description"].map(normalised)
    keyed = keyed[keyed["text"] != ""].sort_values(["received_at", "case_id"], kind="mergesort")
    out = []
    for _key, group in keyed.groupby(["customer_key", "category", "text"], sort=False):
        rows = list(group.itertuples(index=False))
        for earlier, later in zip(rows, rows[1:]):
            if later.received_at - earlier.received_at <= window:
                out.append((int(later.case_id), int(earlier.case_id)))
    return out
