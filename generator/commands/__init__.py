"""The `policy` command's subcommands, by who uses them (generator/cli.py puts them together):

common.py     exit codes, shared options, `run` (typed errors -> messages and exit codes)
authoring.py  check, build, preview, fmt, new, translations, codeowners, due
history.py    history, diff, changelog, impact
decisions.py  decide, keygen, report
"""
