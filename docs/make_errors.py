"""Write docs/errors.md from the bad-input fixtures, so the catalogue can never drift from what
`policy check` really prints. Run after changing a message:

    python docs/make_errors.py            # rewrite docs/errors.md
    python docs/make_errors.py --check    # exit 1 when docs/errors.md is stale (the tests do this)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BAD = HERE.parent / "tests" / "fixtures" / "bad"

# fixture -> (title, how to fix it). Order is the order on the page.
CASES = {
    "malformed-yaml": ("Malformed YAML", "Close the quote, bracket or brace that was opened at the reported place."),
    "tab-indent": ("A tab used for indentation", "Replace the tab with spaces; set your editor to insert spaces for the Tab key."),
    "duplicate-key": ("A key given twice", "Keep one of the two; YAML would otherwise silently keep the last one."),
    "unknown-key": ("Unknown key", "Correct the spelling (the suggestion is usually right) or remove the key. Every allowed key is listed."),
    "wrong-type": ("Wrong kind of value", "Write the kind of value the field takes: here a whole number."),
    "wrong-type-list": ("Text where a list is expected", "Put the value in brackets, or one `- item` per line."),
    "yaml12-booleans": ("yes/no instead of true/false", "Write `true` or `false`."),
    "invalid-enum": ("A value that is not one of the allowed ones", "Use one of the listed values."),
    "invalid-date": ("Invalid dates", "Write a date that exists, as YYYY-MM-DD."),
    "missing-required": ("Missing required field", "Add the field."),
    "bad-id": ("Badly formed id", "Use lowercase letters and digits, words joined by `-`, dots for hierarchy."),
    "duplicate-rule-id": ("The same rule id in two documents", "Give one of the rules a new id (if the other is already published, keep its id)."),
    "filename-mismatch": ("Exception file name and id differ", "Rename the file or change the id so that they match."),
    "permits-missing-rule": ("An exception permits a rule that does not exist", "Use an existing rule id; the suggestion names the closest one."),
    "permits-non-waivable": ("An exception permits a rule that cannot be waived", "Remove the rule from `permits`. If the policy should allow relaxing it, mark the rule `waivable: true` first (a policy decision)."),
    "permits-require-rule": ("An exception permits a `require` rule", "Remove it: a `require` rule already allows the use, with its obligations."),
    "permitted-and-retained": ("A rule both permitted and retained", "Decide which it is and remove it from the other list."),
    "review-before-effective": ("Review date before the effective date", "Set `review_by` after `effective`."),
    "active-without-review": ("Active exception without a review date", "Add `review_by`."),
    "max-asl-no-model": ("`max_asl` that no model meets", "Raise `max_asl`, or add the model to `policy/models.yaml`."),
    "broken-anchor-link": ("A link to a rule that does not exist", "Correct the id after `#`."),
    "javascript-link": ("An unsafe link", "Link with `https://`, `http://`, `mailto:` or `#rule-id` only."),
    "html-in-text": ("HTML in policy text", "Use Markdown; the published page never runs code from a source file."),
    "require-without-obligations": ("Obligations that do not fit the rule's effect", "A `require` rule lists its obligations; a `prohibit` rule lists none; each obligation is defined under `obligations:` in a document."),
    "non-utf8": ("A file that is not UTF-8", "Save the file as UTF-8 in your editor."),
    "billion-laughs": ("Anchors and aliases that expand too far", "Write the content out; do not build it from repeated aliases."),
    "python-tag": ("A YAML tag", "Remove the tag; plain values and quoted text are all the files need."),
    "empty-file": ("An empty file", "Fill it in, or delete it; `policy new exception ID` writes a skeleton."),
    "not-a-mapping": ("A file that is a list instead of fields", "Start the file with its fields (`models:` here)."),
    "yml-extension": ("A `.yml` file", "Rename it to `.yaml`, so that it is read at all."),
    "no-policy": ("No policy folder", "Run the command in the folder that holds `policy/`, or pass `--root`."),
    "translation-locale-tag": ("A translations folder that is not a language tag", "Name the folder after the locale: `de`, `fr`, `pt-BR`, `ar` (see [translations.md](translations.md))."),
    "translation-authoritative-language": ("A translation into the authoritative language", "Remove the folder: the sources are the text in that language (`language` in `[tool.policy]`)."),
    "translation-malformed-po": ("A PO catalog that cannot be read", "Close the quote at the reported line; a translators' tool (Poedit, Weblate) writes valid files."),
    "translation-repeated-clause": ("A clause translated twice in one catalog", "Keep one entry per `msgctxt`: remove the repeated one (the reading would otherwise have to pick one)."),
    "translation-broken-link": ("A translation that links to an id that does not exist", "Link to the same `#id` as the source text: ids are never translated."),
    "translation-placeholder": ("Interface text that loses a placeholder", "Keep every `%(name)s` of the English text, spelled exactly so; write a percent sign as `%%`."),
}

OTHER = """\
## Errors made at run time (no fixture file)

- `exceptions/gov.yaml: file is too large (2,097,252 bytes; the limit is 2,097,152); split it into
  several documents`: source files are limited to 2 MiB.
- `exceptions/gov.yaml: this file is a link to a place outside the policy folder; copy the file in
  instead of linking to it`: symbolic links may only point inside the policy folder.
- `exceptions/x.yaml:6:8: 'title' still holds placeholder text ('TODO: ...'); replace the TODO text
  with the real content`: a skeleton from `policy new exception` not yet filled in.
- `policy: /some/folder: no such folder; pass --root with the folder that holds policy/` (exit 2).
"""


def render() -> str:
    out = ["# Errors and how to fix them", "",
           "Each error below is real: this page is generated from the test fixtures in",
           "`tests/fixtures/bad/` (run `python docs/make_errors.py` after changing a message), and the",
           "tests fail if it is stale. Every message has the form `file:line:column: what is wrong;",
           "what to do`; a message without line and column concerns a whole file or folder.",
           "`policy check` lists every problem it finds, sorted by file and line, then a summary,",
           "and exits with status 1.", ""]
    missing = sorted(p.name for p in BAD.iterdir() if p.is_dir() and p.name not in CASES)
    if missing:
        raise SystemExit(f"fixtures without an entry in docs/make_errors.py: {', '.join(missing)}")
    for name, (title, fix) in CASES.items():
        case = BAD / name
        files = sorted(p for p in case.rglob("*") if p.is_file() and p.name not in ("expected.txt", "DELETE"))
        out += [f"## {title}", ""]
        for src in files[:1]:
            raw = src.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1") + "   (saved as Latin-1, not UTF-8)"
            rel = src.relative_to(case).as_posix()
            lines = text.splitlines()
            shown = "\n".join(lines[:18] + (["..."] if len(lines) > 18 else []))
            out += [f"`{rel}`:", "", "```yaml", shown.replace("\t", "→   "), "```", ""]
        out += ["`policy check` says:", "", "```text", (case / "expected.txt").read_text().rstrip(), "```", "",
                f"**Fix:** {fix}", ""]
    out.append(OTHER)
    return "\n".join(out)


def main() -> None:
    target = HERE / "errors.md"
    text = render()
    if "--check" in sys.argv:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print("docs/errors.md is stale: run python docs/make_errors.py")
            raise SystemExit(1)
        return
    target.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
