"""The product's few shared facts, each defined once: what an id is, what a date is, and when
something dated is in force (DESIGN §2). The source schemas (generator/schema/), the bundle's
data schema and policy.rego repeat the patterns in their own languages; tests/test_facts.py
checks each against this module, and the conformance tests check the Rego's time rules.

A leaf: it imports nothing of the project, so both the runtime and the authoring tool use it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeVar

# Lowercase [a-z0-9] words joined by '-', dotted for hierarchy (weapons.design).
ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$"
ID = re.compile(ID_PATTERN)
ID_HELP = ("ids are lowercase letters and digits in words joined by '-', dotted for hierarchy, "
           "e.g. weapons.design or government-foreign-intelligence")

# ISO YYYY-MM-DD; ASCII digits only. A match may still name no real day (valid_date checks).
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")  # the same, anchored for re.match (no $ before \n)

Day = TypeVar("Day", dt.date, str)


def valid_date(text: str) -> bool:
    """YYYY-MM-DD naming a real day (2024-02-29 yes, 2023-02-29 no, 0000-01-01 no)."""
    if not DATE.match(text):
        return False
    try:
        dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return False
    return True


def in_force(start: Day | None, end: Day | None, day: Day) -> bool:
    """DESIGN §2 Time: in force on ``day`` when ``start <= day < end``; a missing bound is open.
    Works on dates and on ISO date strings alike (which compare as the dates they name)."""
    return (start is None or start <= day) and (end is None or day < end)
