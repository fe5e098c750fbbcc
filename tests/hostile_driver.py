"""Runs `policy` commands in this process, one after another, and reports for each its exit
code and whether a Python traceback escaped (tests/test_hostile.py starts it in a hostile
environment: no git on PATH, a file size limit, ...).

    python hostile_driver.py COMMANDS.json [--fsize BYTES]

COMMANDS.json: a list of argument lists. Prints one JSON object: {"results": [{"args", "code",
"traceback"}]}. Output of the commands themselves goes to /dev/null (their stdout) and is
not inspected; stderr is kept per command, so a traceback printed by anyone is seen."""

import contextlib
import io
import json
import resource
import sys
import traceback


def main() -> None:
    commands = json.load(open(sys.argv[1]))
    if "--fsize" in sys.argv:
        limit = int(sys.argv[sys.argv.index("--fsize") + 1])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    from generator.cli import main as policy

    results = []
    for args in commands:
        err, out = io.StringIO(), io.StringIO()
        code, trace = 0, ""
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                policy(args, prog_name="policy", standalone_mode=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # what must never happen: a traceback for the user
                trace = traceback.format_exc()
                code = -1
        text = err.getvalue() + out.getvalue()
        if "Traceback (most recent call last)" in text:
            trace = trace or text
        results.append({"args": args, "code": code, "traceback": trace, "stderr": err.getvalue()[-800:],
                        "stdout": out.getvalue()[-800:]})
    real = sys.__stdout__
    real.write(json.dumps({"results": results}))
    real.flush()


if __name__ == "__main__":
    main()
