"""rego-cpp (regopy) in a process of its own, answering decisions over JSON lines.

Why a process: regopy 1.5.2 aborts the process ("free(): invalid pointer") when it evaluates
time.format with a time zone in a process that loaded the system's libstdc++ first (importing
greenlet, which Playwright uses, is enough). Minimal reproduction (docs/bundle.md):

    python3 -c 'import greenlet, regopy; i = regopy.Interpreter();
    i.add_module("p.rego", "package p\\nx := time.format([0, \\"UTC\\", \\"2006-01-02\\"])\\n");
    print(i.query("data.p.x"))'

This process imports nothing but regopy and the standard library. The first line it reads is
{"data": ..., "modules": {name: source}, "entrypoint": "usage_policy/decision"}; every later line
is {"input": value} or {"no_input": true}; it answers each with {"ok": decision} or {"error": text}.
"""

import json
import sys

import regopy


def main() -> None:
    setup = json.loads(sys.stdin.readline())
    entrypoint = setup["entrypoint"]
    interp = regopy.Interpreter()
    try:
        interp.add_data_json(json.dumps(setup["data"]))
        for name, source in setup["modules"].items():
            interp.add_module(name, source)
        plan = interp.build(None, [entrypoint])
        if not plan.ok():
            raise regopy.RegoError(str(plan.node()), 0)
    except regopy.RegoError as exc:
        print(json.dumps({"error": f"rego-cpp refuses the bundle: {exc}"}), flush=True)
        return
    print(json.dumps({"ok": "loaded"}), flush=True)
    bare = regopy.Interpreter()  # never given an input
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("no_input"):
            target = bare
        else:
            target = interp
            target.set_input_term(json.dumps(request["input"]))  # ASCII: escapes for the rest
        output = target.query_bundle_entrypoint(plan, entrypoint)
        text = str(output)
        try:
            answer = {"ok": json.loads(text)["expressions"][0]} if output.ok() else {"error": text}
        except (ValueError, KeyError, IndexError, TypeError):
            answer = {"error": f"no decision (undefined): {text[:200]}"}
        print(json.dumps(answer, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
