"""The `numprec` command line: one module per command, each with HELP, add_arguments and run."""
from __future__ import annotations

import argparse
import os
import sys

from . import (advise_cmd, bench_cmd, formats_cmd, inspect_cmd, report_cmd, study_cmd,
               train_cmd)
from .errors import CommandError

COMMANDS = {"formats": formats_cmd, "inspect": inspect_cmd, "train": train_cmd,
            "study": study_cmd, "report": report_cmd, "advise": advise_cmd, "bench": bench_cmd}
# Bad input (unknown format, unreadable value, invalid mode), unwritable files, missing modules.
USER_ERRORS = (ValueError, TypeError, OSError, CommandError)


class _OneLineParser(argparse.ArgumentParser):
    """Usage mistakes print one line, `numprec: error: ...`, and exit 2 (no usage dump)."""

    def error(self, message):
        raise SystemExit(_fail(message))


def _fail(message) -> int:
    print(f"numprec: error: {message}", file=sys.stderr)
    return 2


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (captured by a test): nothing will flush to a dead pipe


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = _OneLineParser(prog="numprec", description="Bit-exact emulation of low-precision "
                            "arithmetic: formats, rounding, studies.")
    parser.add_argument("--version", action="version", version=f"numprec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    for name, module in COMMANDS.items():
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
    return parser


def main(argv=None) -> int:
    """Run one command; returns the exit status (0 ok, 2 usage or input error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["bench"]:  # everything after `bench` belongs to the benchmark
            return bench_cmd.run_forwarded(argv[1:])
        if argv[:1] == ["inspect"]:
            argv = argv[:1] + inspect_cmd.protect_negative_values(argv[1:])
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help, --version, or a usage error already reported
            return done.code if isinstance(done.code, int) else 0
        if args.command is None:
            build_parser().print_help()
            return 2
        args.command_line = ["numprec", *argv]  # for run manifests
        return COMMANDS[args.command].run(args)
    except BrokenPipeError:  # the reader went away (numprec formats | head): stop quietly
        _silence_stdout()
        return 1
    except USER_ERRORS as err:
        return _fail(err)
    except KeyboardInterrupt:
        print("numprec: interrupted", file=sys.stderr)
        return 130
