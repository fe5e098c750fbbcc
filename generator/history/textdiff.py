"""The text form of a semantic diff, for people reading a terminal or a pull request.

Marks: '+' added, '-' removed, '~' changed, '>' moved or renamed, 'x' retired. Word changes are
shown as [-deleted-]{+inserted+}, with a few words of context around each."""

from __future__ import annotations

from .classify import ORDER

CONTEXT_WORDS = 6


def words_inline(ops: list[list[str]]) -> str:
    out = []
    for op, text in _shortened(ops):
        if op == "=":
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
            direction = f" ({value['direction']})" if "direction" in value else ""
            for rule, change in value["purposes"].items():
                lines.append(f"{name}: purposes for {rule}: " + "; ".join(
                    [f"+ {p}" for p in change["added"]] + [f"- {p}" for p in change["removed"]]) + direction)
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
    lines.append(f"Classes: {_classes(diff)}")
    marks = {"added": "+", "removed": "-", "changed": "~", "moved": ">", "renamed": ">",
             "retired": "x", "unretired": "~"}

    def block(heading: str, entries: list[dict], describe) -> None:
        if not entries:
            return
        lines.append("")
        lines.append(heading)
        for entry in entries:
            lines.append(f"  {marks.get(entry['change'], '~')} {describe(entry)} [{entry['class']}]")
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


def _classes(diff: dict) -> str:
    counts = diff.get("classes", {})
    parts = [f"{counts[c]} {c}" for c in ORDER if counts.get(c)]
    return ", ".join(parts) if parts else "no change"


_HEADINGS = {"looser": "Looser: the policy allows more", "mixed": "Mixed: looser in part, stricter in part",
             "stricter": "Stricter: the policy allows less or asks for more",
             "editorial": "Editorial: no decision changes"}
_KINDS = (("documents", "document"), ("sections", "section"), ("rules", "rule"), ("exceptions", "exception"),
          ("models", "model"))


def format_markdown(diff: dict, title: str = "") -> str:
    """The diff as Markdown for a pull request: looser changes first, then mixed, stricter and
    editorial ones; each entry with what changed in it."""
    lines: list[str] = []
    if title:
        lines += [f"### {title}", ""]
    lines += [f"**{_classes(diff)}.** {diff['summary']}", ""]
    for cls in ORDER:
        entries = [(kind, e) for key, kind in _KINDS for e in diff[key] if e["class"] == cls]
        if not entries:
            continue
        lines += [f"#### {_HEADINGS[cls]} ({len(entries)})", ""]
        for kind, e in entries:
            what = f"{e['change']}"
            if e["change"] == "renamed":
                what += f" to `{e['to']}`"
            label = f" {_md(e['title'])}" if isinstance(e.get("title"), str) else ""
            lines.append(f"- {kind} `{e['id']}` {what}{':' if label else ''}{label}")
            for name, value in e.get("fields", {}).items():
                if "words" in value:  # struck through and bold, as a redline reads
                    lines.append(f"  - {_md(name)}: " + " ".join(
                        _md(text) if op == "=" else f"~~{_md(text)}~~" if op == "-" else f"**{_md(text)}**"
                        for op, text in _shortened(value["words"])))
                else:
                    lines += [f"  - {_md(line)}" for line in _fields({name: value})]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _md(text: str) -> str:
    """Plain text safe in Markdown: characters that would format, link or open HTML are escaped."""
    return "".join("\\" + c if c in "\\`*_[]<>|~" else c for c in text)


def _shortened(ops: list[list[str]]) -> list[list[str]]:
    """Unchanged runs cut to a few words of context, as in the text form."""
    out = []
    for op, text in ops:
        words = text.split(" ")
        if op == "=" and len(words) > 2 * CONTEXT_WORDS + 1 and len(ops) > 1:
            text = " ".join(words[:CONTEXT_WORDS]) + " ... " + " ".join(words[-CONTEXT_WORDS:])
        out.append([op, text])
    return out
