"""Rule thresholds. The standard's own figures are the defaults (obligations.md, "Thresholds"); an admin can
change them in the app, where they are stored in the settings table under `threshold.<name>`."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class Thresholds:
    first_contact_hours: float = 24      # 8.3.5
    final_result_hours: float = 48       # 8.3.1, 8.3.5
    progress_interval_hours: float = 48  # 8.3.5 (a case's agreed interval overrides it)
    rejection_notice_hours: float = 24   # 4.1, 8.3.4 (our reading)
    archive_days: float = 7              # 10.1.1 says "promptly"; a product default
    warn_hours: float = 4                # how early a deadline counts as at risk

    def key(self) -> str:
        """A short, stable name for this set of values, stored with every evaluated obligation."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()[:10]

    def with_values(self, **values: float) -> "Thresholds":
        return replace(self, **{k: float(v) for k, v in values.items()})

    @classmethod
    def from_mapping(cls, mapping: dict[str, str | float]) -> "Thresholds":
        known = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for name, raw in mapping.items():
            if name not in known:
                continue
            value = float(raw)
            if value != value or value > MAXIMA[name]:  # NaN, infinity, 1e308 …
                raise ValueError(f"threshold {name} must be at most {MAXIMA[name]:g}")
            if not value > 0 and name != "warn_hours":
                raise ValueError(f"threshold {name} must be greater than 0")
            if value < 0:
                raise ValueError(f"threshold {name} cannot be negative")
            values[name] = value
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


# Upper bounds: a year for any deadline, a week for the warning lead (beyond that a figure is a typo).
MAXIMA = {"first_contact_hours": 8760, "final_result_hours": 8760, "progress_interval_hours": 8760,
          "rejection_notice_hours": 8760, "archive_days": 365, "warn_hours": 168}
DEFAULT = Thresholds()
THRESHOLD_CLAUSES = {
    "first_contact_hours": "8.3.5",
    "final_result_hours": "8.3.1, 8.3.5",
    "progress_interval_hours": "8.3.5",
    "rejection_notice_hours": "4.1, 8.3.4",
    "archive_days": "10.1.1",
    "warn_hours": "",
}
