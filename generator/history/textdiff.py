"""The text form of a semantic diff, for people reading a terminal or a pull request.

Marks: '+' added, '-' removed, '~' changed, '>' moved or renamed, 'x' retired. Word changes are
shown as [-deleted-]{+inserted+}, with a few words of context around each."""

from __future__ import annotations

CONTEXT_WORDS = 6


def words_inline(ops: list[list[str]]) -> str:
    out = []
    for op, text in ops:
        if op == "=":
            words = text.split(" ")
            if len(words) > 2 * CONTEXT_WORDS + 1 and len(ops) > 1:
                text = " ".join(words[:CONTEXT_WORDS]) + " ... " + " ".join(words[-CONTEXT_WORDS:])
            out.append(text)
        elif op == "-":
            out.append(f"[-{text}-]")
        else:
            out.append(f"{{+{text}+}}")
    return " ".join(out)


def _fields(fields: dict) -> list[str]:
    lines = []
    for name, value in fields.items():
        if "words" in value:
            lines.append(f"{name}: {words_inline(value['words'])}")
        elif "added" in value or "removed" in value:
            bits = []
            if value.get("added"):
                bits.append("added " + ", ".join(map(str, value["added"])))
            if value.get("removed"):
                bits.append("removed " + ", ".join(map(str, value["removed"])))
            if "purposes" in value:
                for rule, change in value["purposes"].items():
                    bits.append(f"purposes for {rule}: " + "; ".join(
                        [f"+ {p}" for p in change["added"]] + [f"- {p}" for p in change["removed"]]))
            direction = f" ({value['direction']})" if "direction" in value else ""
            lines.append(f"{name}: {'; '.join(bits)}{direction}")
        elif "purposes" in value:
            for rule, change in value["purposes"].items():
                lines.append(f"{name}: purposes for {rule}: " + "; ".join(
                    [f"+ {p}" for p in change["added"]] + [f"- {p}" for p in change["removed"]]))
        else:
            direction = f" ({value['direction']})" if "direction" in value else ""
            lines.append(f"{name}: {_show(value['from'])} -> {_show(value['to'])}{direction}")
    return lines


def _show(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def format_text(diff: dict, title: str = "") -> str:
    lines: list[str] = []
    if title:
        lines.append(title)
    lines.append(f"Summary: {diff['summary']}")
    marks = {"added": "+", "removed": "-", "changed": "~", "moved": ">", "renamed": ">",
             "retired": "x", "unretired": "~"}

    def block(heading: str, entries: list[dict], describe) -> None:
        if not entries:
            return
        lines.append("")
        lines.append(heading)
        for entry in entries:
            lines.append(f"  {marks.get(entry['change'], '~')} {describe(entry)}")
            for line in _fields(entry.get("fields", {})):
                lines.append(f"      {line}")

    block("Documents", diff["documents"], lambda e: f"{e['id']} {e['change']}"
          + (f" (version {e['effective']})" if e.get("effective") else ""))
    block("Sections", diff["sections"], lambda e: f"{e['id']} renamed to {e['to']}" if e["change"] == "renamed"
          else f"{e['id']} {e['change']}" + (f": {e['title']}" if isinstance(e.get("title"), str) else ""))

    def rule(e: dict) -> str:
        text = f"{e['id']} {e['change']}"
        if e["change"] in ("added", "removed"):
            text += f" in {e['document']} / {e['section']}: {e['title']}"
        if "moved" in e:
            text += f" (moved from {e['moved']['from']['section']} to {e['moved']['to']['section']})"
        return text

    block("Rules", diff["rules"], rule)
    block("Exceptions", diff["exceptions"], lambda e: f"{e['id']} {e['change']}: {e['title']}")
    block("Models", diff["models"], lambda e: f"{e['id']} {e['change']}")
    return "\n".join(lines) + "\n"
