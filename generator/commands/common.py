"""What every command shares: exit codes, the --root option, dates as arguments, diagnostics
printed relative to where the user ran the command, and `run`, which calls the library and turns
its typed errors into messages and exit codes (no traceback reaches the user for an expected
failure)."""

from __future__ import annotations

import datetime as dt
import errno
import os
import sys
from pathlib import Path

import click

from ..bundle.errors import BundleError, BundleNotFound, KeyFileError, PackagingError
from ..errors import Diagnostic, PolicyError, UsageError, ValidationFailed

EXIT_INVALID = 1
EXIT_USAGE = 2


class Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date written YYYY-MM-DD", param, ctx)


root_option = click.option(
    "--root", type=click.Path(path_type=Path), default=Path("."), show_default=True,
    help="The folder holding policy/ and exceptions/.")


def display(root: Path, path: str) -> str:
    """A source path as the user can open it: relative to where they ran the command."""
    return os.path.normpath(os.path.join(str(root), path)) + ("/" if path.endswith("/") else "")


def print_diagnostics(root: Path, diagnostics, *, err: bool = False) -> None:
    for d in diagnostics:
        shown = Diagnostic(display(root, d.path), d.line, d.col, d.message, d.severity)
        click.echo(shown.format(), err=err)


_OS_HINTS = {errno.ENOSPC: "the disk is full: free some space and run the command again",
             errno.EFBIG: "a file grew past the size this system allows (a full disk or a file size limit)",
             errno.EROFS: "that place is on a read-only file system: choose another --out",
             errno.EACCES: "permission denied: choose a folder you may write to, or fix its permissions",
             errno.ENOTDIR: "a file stands where a folder is needed"}


def os_error(exc: OSError) -> str:
    """An operating-system failure in words: what failed, where, and what to do."""
    where = f"{exc.filename}: " if exc.filename else ""
    hint = _OS_HINTS.get(exc.errno or 0)
    return f"{where}{exc.strerror or exc}" + (f"; {hint}" if hint else "")


def run(action, root: Path = Path(".")):
    """Call the library; turn its typed errors into messages and exit codes."""
    try:
        return action()
    except ValidationFailed as exc:
        print_diagnostics(root, exc.diagnostics, err=True)
        click.echo(f"policy: {len(exc.errors)} error(s); nothing was written", err=True)
        sys.exit(EXIT_INVALID)
    except (UsageError, BundleNotFound, KeyFileError) as exc:
        click.echo(f"policy: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except (PolicyError, BundleError) as exc:
        click.echo(f"policy: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    except PackagingError as exc:
        click.echo(f"policy: the installation is broken: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        click.echo(f"policy: {os_error(exc)}", err=True)
        sys.exit(EXIT_USAGE)
