"""Generate a large, valid policy corpus for benchmarks (and for scale tests).

    python benchmarks/corpus.py OUT_DIR [--documents 100] [--rules 10000] [--exceptions 1000]

Deterministic: the same arguments give the same files (seeded random text).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = (
    "policy customer model output review safeguard disclosure user content system service "
    "agency analysis report request purpose contract decision clause provider access data "
    "record notice consent legal process public private research support operation"
).split()


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


DOCUMENT_DATES = ("2024-06-06", "2025-01-15", "2025-09-15", "2026-03-01")
VARIED_MODELS = (("model-tiny", "Tiny model", 1), ("model-small", "Small model", 2),
                 ("model-large", "Large model", 3), ("model-frontier", "Frontier model", 4))


def generate(out: Path, documents: int = 100, rules: int = 10_000, exceptions: int = 1_000,
             seed: int = 1, varied: bool = False) -> dict[str, int]:
    """``varied``: documents of different dates, four models (ASL 1-4), exceptions for several
    customer types and attestations, with expiry dates and caps spread out (for conformance)."""
    rng = random.Random(seed)
    (out / "policy").mkdir(parents=True, exist_ok=True)
    (out / "exceptions").mkdir(parents=True, exist_ok=True)
    per_doc = rules // documents
    waivable: list[str] = []
    fixed: list[str] = []
    for d in range(documents):
        lines = [
            f"id: doc-{d:03d}",
            f"title: Generated policy document {d}",
            f"effective: {DOCUMENT_DATES[d % len(DOCUMENT_DATES)] if varied else '2024-06-06'}",
            "summary: |",
            f"  {_sentence(rng, 20)}",
            "obligations:",
            f"  - id: review-{d:03d}",
            "    title: A qualified person reviews the output",
            "sections:",
        ]
        for s in range(per_doc // 10):
            lines += [
                f"  - id: doc-{d:03d}.part-{s:02d}",
                f"    title: Part {s} of document {d}",
                "    intro: |",
                f"      {_sentence(rng, 15)}",
                "    rules:",
            ]
            for r in range(10):
                rid = f"doc-{d:03d}.rule-{s:02d}-{r}"
                effect = "require" if r == 9 else "prohibit"
                link = f" See [the related clause](#{fixed[-1]})." if fixed and r == 3 else ""
                lines += [
                    f"      - id: {rid}",
                    f"        title: {_sentence(rng, 5)}",
                    "        text: |",
                    f"          {_sentence(rng, 30)}{link}",
                    f"          {_sentence(rng, 20)}",
                    f"        effect: {effect}",
                ]
                serial = (d * per_doc) + s * 10 + r
                if serial % 50 == 7:
                    lines.append("        effective: 2025-09-15")  # scheduled by a later version
                elif serial % 70 == 11:
                    lines.append("        retired: 2025-09-15")
                if effect == "require":
                    lines.append(f"        obligations: [review-{d:03d}]")
                elif r % 2:
                    lines.append("        waivable: true")
                    waivable.append(rid)
                else:
                    fixed.append(rid)
        (out / "policy" / f"doc-{d:03d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    models = VARIED_MODELS if varied else VARIED_MODELS[1:3]
    (out / "policy" / "models.yaml").write_text(
        "models:\n" + "".join(f"  - {{id: {m}, name: {n}, asl: {a}}}\n" for m, n, a in models), encoding="utf-8")
    for e in range(exceptions):
        permits = rng.sample(waivable, 3)
        retains = rng.sample(fixed, 4)
        status = "draft" if e % 10 == 3 else "retired" if e % 15 == 4 else "active"
        lines = [
            f"id: exception-{e:04d}",
            f"title: Generated exception {e}",
            f"status: {status}",
            f"effective: {'2026-01-01' if e % 13 == 5 else '2024-06-26'}",
            "review_by: 2030-06-26",
            *([f"expires: {'2027-01-01' if not varied else ('2025-03-01', '2027-01-01', '2025-09-15')[e % 3] if e % 13 != 5 else '2027-01-01'}"]
              if e % 7 == 2 else []),
            "eligibility:",
            "  customer_types: " + ("[government]" if not varied else
                                    ("[government]", "[government, nonprofit]", "[commercial]")[e % 3]),
            "  attestations: " + ("[legal-authority, vetted-agency]" if not varied else
                                  ("[legal-authority, vetted-agency]", "[]", "[contract-signed]")[e % 3]),
            "models:",
            f"  max_asl: {2 + e % 2 if not varied else 1 + e % 4}",
            "permits:",
        ]
        for rule in permits:
            lines += [f"  - rule: {rule}", "    purposes:",
                      f"      - {_sentence(rng, 4)}", f"      - {_sentence(rng, 5)}"]
        lines.append("retains: [" + ", ".join(retains) + "]")
        lines += ["summary: |", f"  {_sentence(rng, 40)}", f"contract: MSA-{2020 + e % 6}-{e:04d}",
                  f"approved_by: [Counsel {e % 7} <counsel{e % 7}@example.com>]"]
        (out / "exceptions" / f"exception-{e:04d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"documents": documents, "rules": per_doc * documents, "exceptions": exceptions}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--documents", type=int, default=100)
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--exceptions", type=int, default=1_000)
    args = ap.parse_args()
    print(generate(args.out, args.documents, args.rules, args.exceptions))


if __name__ == "__main__":
    main()
