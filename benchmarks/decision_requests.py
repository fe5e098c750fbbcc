"""Seeded random decision requests over a bundle's data, for benchmarks and conformance tests.

They cover every branch of DESIGN §5: unknown rules, rules not in force, requirements, no
exception, every exception failure, allowed by exception, and invalid requests. With
``hostile=True`` (the conformance tests) they also reach the edges where engines disagree
most easily: every rule id, the day before, on and after every date in the data, missing and
wrongly typed fields at every level, inputs that are not objects, and ids with unicode and odd
whitespace. ``NO_INPUT`` (when given) stands for a request with no input document at all.
"""

from __future__ import annotations

import datetime as dt
import random

CUSTOMER_TYPES = ["government", "commercial", "nonprofit", None]

# Values of the wrong type for any field; and strings that look like ids but are not.
WRONG_TYPES = [None, 0, 7, -1.5, True, False, [], ["x"], {}, {"a": 1}, [None], [[]]]
ODD_STRINGS = ["", " ", "\t", "é", "weapons design", "ÅSL", "\u00a0", "\u200b", "日本語", "🙂",
               "a\u0000b", "line\nbreak", "UPPER", "x" * 300]
BAD_DATES = ["2024-13-01", "2023-02-29", "2100-02-29", "0000-01-01", "2024-1-01", "20240101",
             "2024-01-01T00:00:00Z", "2024-01-01 ", " 2024-01-01", "２０２４-01-01", "2024-04-31",
             "2024-00-10", "2024-06-00", "", "yesterday", "9999-12-32"]
GOOD_ODD_DATES = ["2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "1999-12-31"]


def _dates(data: dict) -> list[str]:
    """Every date in the data, and the day before and after each (the boundaries)."""
    found: set[str] = set()
    for rule in data["rules"].values():
        found.update(d for d in (rule.get("effective"), rule.get("retired")) if d)
    for exc in data["exceptions"].values():
        found.update(d for d in (exc.get("effective"), exc.get("expires"), exc.get("review_by")) if d)
    for doc in data.get("documents", {}).values():
        found.add(doc["effective"])
    out: set[str] = set()
    for day in found:
        d = dt.date.fromisoformat(day)
        for delta in (-1, 0, 1):
            try:
                out.add((d + dt.timedelta(days=delta)).isoformat())
            except OverflowError:
                pass
    return sorted(out)


def _mangle(rng: random.Random, text: str) -> str:
    """An id with unicode or odd whitespace around or in it."""
    return rng.choice([
        f" {text}", f"{text} ", f"{text}\t", f"\n{text}", f"{text}\u00a0", f"\u200b{text}", text.upper(),
        text.replace(".", "\u2024"), text.replace("-", "\u2010"), text + "é", "é" + text, text[:-1],
        text.replace("a", "а"),  # Cyrillic a
    ])


def random_requests(data: dict, count: int, seed: int = 7, invalid: bool = True, hostile: bool = False,
                    no_input: object = None):
    rng = random.Random(seed)
    rules = sorted(data["rules"])
    exceptions = sorted(data["exceptions"])
    models = sorted(data["models"]) + ["no-such-model", None]
    attestations = sorted({a for e in data["exceptions"].values() for a in e["attestations"]}) or ["legal-authority"]
    types = sorted({t for e in data["exceptions"].values() for t in e["customer_types"]} | {"commercial"})
    permits = [(e, r) for e in exceptions for r in data["exceptions"][e]["permits"]]
    boundaries = _dates(data) if hostile else []
    for n in range(count):
        if hostile and n % 2 == 0 and n // 2 < len(rules):  # every rule id once, with a plausible customer
            use = rules[n // 2]
            listed = [e for e in exceptions if use in data["exceptions"][e]["permits"]][:2]
            yield {"use": use, "customer": {"type": rng.choice(types), "exceptions": listed,
                                            "attestations": attestations},
                   "model": rng.choice(models[:-1]), "at": rng.choice(boundaries or ["2025-01-01"])}
            continue
        roll = rng.random()
        if invalid and roll < (0.12 if hostile else 0.03):
            yield _invalid(rng, rules, no_input) if hostile else rng.choice([
                "not an object", {"use": 7}, {"use": rng.choice(rules), "customer": "x"},
                {"use": rng.choice(rules), "at": "2024-13-01"}, {"use": rng.choice(rules), "at": "2023-02-29"},
                {"use": rng.choice(rules), "customer": {"exceptions": "one"}},
                {"use": rng.choice(rules), "customer": {"attestations": [1]}}, {"use": rng.choice(rules), "model": 3},
                {"use": rng.choice(rules), "customer": {"type": ["government"]}}, {},
            ])
            continue
        listed = rng.sample(exceptions, k=min(len(exceptions), rng.choice([0, 1, 1, 2, 3])))
        if permits and roll < 0.45:
            exc, use = rng.choice(permits)
            listed.append(exc)
        elif roll < 0.5:
            use = "no.such-rule"
        else:
            use = rng.choice(rules)
        if rng.random() < 0.1:
            listed.append("unknown-exception")
        if hostile and rng.random() < 0.08:
            use = _mangle(rng, use) if rng.random() < 0.7 else rng.choice(ODD_STRINGS)
        if hostile and listed and rng.random() < 0.05:
            i = rng.randrange(len(listed))
            listed[i] = _mangle(rng, listed[i])
        if hostile and listed and rng.random() < 0.05:
            listed.append(listed[0])  # listed twice
        request: dict = {"use": use}
        customer: dict = {}
        ctype = rng.choice(CUSTOMER_TYPES + (types if hostile else []))
        if hostile and ctype and rng.random() < 0.04:
            ctype = _mangle(rng, ctype)
        if ctype is not None or rng.random() < 0.5:
            customer["type"] = ctype
        if listed or rng.random() < 0.5:
            customer["exceptions"] = listed
        if not hostile or rng.random() < 0.9:
            customer["attestations"] = rng.sample(attestations, k=rng.randint(0, len(attestations)))
        if hostile and customer.get("attestations") and rng.random() < 0.05:
            customer["attestations"].append(_mangle(rng, customer["attestations"][0]))
        if rng.random() < 0.9:
            request["customer"] = customer
        elif hostile and rng.random() < 0.5:
            request["customer"] = None
        model = rng.choice(models)
        if hostile and model and rng.random() < 0.04:
            model = _mangle(rng, model)
        if model is not None:
            request["model"] = model
        elif hostile and rng.random() < 0.3:
            request["model"] = None
        if hostile and boundaries and rng.random() < 0.6:
            request["at"] = rng.choice(boundaries)
        elif hostile and rng.random() < 0.03:
            request["at"] = rng.choice(GOOD_ODD_DATES + [None])
        elif hostile and rng.random() < 0.01:
            pass  # no 'at': today (UTC) in every engine
        else:
            year = rng.randint(2023, 2031)
            request["at"] = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if hostile and rng.random() < 0.03:
            request[rng.choice(["extra", "Use", "use ", "customer_type"])] = rng.choice(WRONG_TYPES + ODD_STRINGS)
        yield request


def _invalid(rng: random.Random, rules: list[str], no_input: object):
    """A request that is not well formed, in one of many ways (or at one of many depths)."""
    use = rng.choice(rules)
    kind = rng.randrange(11)
    if kind == 0:
        return rng.choice([no_input, None, "not an object", 0, 3.5, True, False, [], [{"use": use}], ""])
    if kind == 1:
        return {} if rng.random() < 0.3 else {"customer": {"type": "government"}, "at": "2025-01-01"}
    if kind == 2:
        return {"use": rng.choice([w for w in WRONG_TYPES if w is not None or rng.random() < 0.5])}
    base = {"use": use, "customer": {"type": "government", "exceptions": [], "attestations": []},
            "model": "x", "at": "2025-01-01"}
    if kind == 3:
        base["customer"] = rng.choice([w for w in WRONG_TYPES if not isinstance(w, dict) and w is not None]
                                      + ["government"])
    elif kind == 4:
        base["customer"]["type"] = rng.choice([w for w in WRONG_TYPES if w is not None])
    elif kind == 5:
        base["customer"]["exceptions"] = rng.choice([w for w in WRONG_TYPES if w not in (None, [])] + ["one"])
    elif kind == 6:
        base["customer"]["attestations"] = rng.choice([w for w in WRONG_TYPES if w not in (None, [])] + ["one"])
    elif kind == 7:
        base["model"] = rng.choice([w for w in WRONG_TYPES if w is not None])
    elif kind == 8:
        base["at"] = rng.choice(BAD_DATES + [w for w in WRONG_TYPES if w is not None])
    elif kind == 9:  # several problems at once: the first in the documented order is reported
        base["model"] = 5
        base["at"] = "2024-13-01"
        base["customer"]["type"] = 1
    else:
        del base["use"]
    return base
