"""Seeded random decision requests over a bundle's data, for benchmarks and conformance tests.

They cover every branch of DESIGN §5: unknown rules, rules not in force, requirements, no
exception, every exception failure, allowed by exception, and invalid requests."""

from __future__ import annotations

import random

CUSTOMER_TYPES = ["government", "commercial", "nonprofit", None]


def random_requests(data: dict, count: int, seed: int = 7, invalid: bool = True):
    rng = random.Random(seed)
    rules = sorted(data["rules"])
    exceptions = sorted(data["exceptions"])
    models = sorted(data["models"]) + ["no-such-model", None]
    attestations = sorted({a for e in data["exceptions"].values() for a in e["attestations"]}) or ["legal-authority"]
    permits = [(e, r) for e in exceptions for r in data["exceptions"][e]["permits"]]
    for _ in range(count):
        roll = rng.random()
        if invalid and roll < 0.03:
            yield rng.choice([
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
        request: dict = {"use": use}
        customer: dict = {}
        ctype = rng.choice(CUSTOMER_TYPES)
        if ctype is not None or rng.random() < 0.5:
            customer["type"] = ctype
        if listed or rng.random() < 0.5:
            customer["exceptions"] = listed
        customer["attestations"] = rng.sample(attestations, k=rng.randint(0, len(attestations)))
        if rng.random() < 0.9:
            request["customer"] = customer
        model = rng.choice(models)
        if model is not None:
            request["model"] = model
        year = rng.randint(2023, 2031)
        request["at"] = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        yield request
