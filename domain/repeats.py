"""Repeat complaints (重复投诉, 10.2): the same customer complaining again within a window about the same
kind of problem.

The customer is recognised by a keyed hash of the phone number (HMAC-SHA256 with a secret kept outside the
database), so the table that links cases by customer never holds a number, and the key cannot be reversed
by hashing all 10^11 mobile numbers without the secret.

A case is a repeat when the same customer's previous case in the same scope (same category, or any) was
registered at most `window_days` days before it: exactly 30 days later is a repeat, a second more is not.
Cases registered at the same instant are ordered by their id, so the later-loaded one is the repeat.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

import pandas as pd

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365
SCOPES = ("category", "cluster", "any")  # same category / same problem cluster (10.2.2) / any complaint
_NOT_DIGIT = re.compile(r"\D")


def normalise_phone(phone: str | None) -> str | None:
    """The digits that identify a line: separators dropped, a +86/0086 country prefix on a mobile dropped;
    None when fewer than 7 digits remain (not a usable number)."""
    digits = _NOT_DIGIT.sub("", phone or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11 and digits[len(prefix)] == "1":
            digits = digits[len(prefix):]
            break
    return digits if len(digits) >= 7 else None


def customer_key(phone: str | None, secret: bytes) -> str | None:
    """The keyed hash that stands for the customer (32 hex characters), None without a usable number."""
    digits = normalise_phone(phone)
    if digits is None:
        return None
    return hmac.new(secret, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def key_id(secret: bytes) -> str:
    """A short fingerprint of the secret: stored keys made with another secret are recomputed."""
    return hmac.new(secret, b"complaints-customer-key-id", hashlib.sha256).hexdigest()[:12]


def check_window(window_days: int) -> int:
    days = int(window_days)
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"window_days must be between 1 and {MAX_WINDOW_DAYS}")
    return days


def mark_repeats(frame: pd.DataFrame, window_days: int = DEFAULT_WINDOW_DAYS, scope: str = "category") -> pd.DataFrame:
    """`frame` has one row per case: case_id, customer_key, received_at (UTC) and the scope column
    (category, or cluster_id: a case in no cluster is then never a repeat nor a previous case). Returns it sorted, with `previous_id` (the same customer's previous case in scope, or NA),
    `gap_days` and `repeat` (the previous case lies within the window)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    window = timedelta(days=check_window(window_days))
    out = frame.sort_values(["received_at", "case_id"], kind="mergesort").reset_index(drop=True)
    groups = ["customer_key"] + ({"category": ["category"], "cluster": ["cluster_id"]}.get(scope, []))
    keyed = out["customer_key"].notna() & (out["cluster_id"].notna() if scope == "cluster" else True)
    previous_at = out[keyed].groupby(groups, sort=False)["received_at"].shift(1)
    previous_id = out[keyed].groupby(groups, sort=False)["case_id"].shift(1)
    out["previous_id"] = previous_id.reindex(out.index).astype("Int64")
    gap = out["received_at"] - previous_at.reindex(out.index)
    out["gap_days"] = gap.dt.total_seconds() / 86400.0
    out["repeat"] = (gap <= window).fillna(False).astype(bool)
    return out


def rate_table(frame: pd.DataFrame, by: str, flag: str = "repeat") -> pd.DataFrame:
    """Cases, cases flagged and the flagged share in per cent per value of `by`, highest share first (ties:
    more cases first)."""
    if frame.empty:
        return pd.DataFrame(columns=[by, "cases", "repeats", "rate"])
    grouped = frame.groupby(by, dropna=False)[flag].agg(["size", "sum"]).reset_index()
    grouped.columns = [by, "cases", "repeats"]
    grouped["repeats"] = grouped["repeats"].astype(int)
    grouped["rate"] = (grouped["repeats"] / grouped["cases"] * 100).round(1)
    return grouped.sort_values(["rate", "cases"], ascending=[False, False], kind="mergesort").reset_index(drop=True)
