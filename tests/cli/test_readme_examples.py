"""The README shows real output: its >>> examples and its `$ numprec ...` transcripts must match
what the code prints today."""
import doctest
import re
import shlex
from pathlib import Path

import pytest

from numprec.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)


def test_python_examples_run_as_shown():
    source = "\n".join(b for b in _blocks("python") if b.lstrip().startswith(">>>"))
    assert source, "the README has no >>> examples"
    test = doctest.DocTestParser().get_doctest(source, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda text: pytest.fail(text))
    assert runner.summarize(verbose=False).attempted > 10


def _transcripts():
    """(argv, expected stdout + stderr) for each `$ numprec ...` command in a text block."""
    found = []
    for block in _blocks("text"):
        for chunk in re.split(r"^(?=\$ numprec )", block, flags=re.M):
            if chunk.startswith("$ numprec "):
                command, _, output = chunk.partition("\n")
                found.append((shlex.split(command)[2:], output.rstrip("\n")))
    return found


@pytest.mark.parametrize("argv, expected", _transcripts(), ids=lambda v: " ".join(v)
                         if isinstance(v, list) else "")
def test_cli_transcripts_match(capsys, argv, expected):
    main(argv)
    out, err = capsys.readouterr()
    assert (out + err).rstrip("\n") == expected


def test_there_are_transcripts():
    assert len(_transcripts()) >= 3
