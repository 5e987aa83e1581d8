"""docs/quantization.md shows real output: its >>> examples run as shown."""
import doctest
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "quantization.md"


def test_quantization_doc_examples_run_as_shown():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    source = "\n".join(b for b in blocks if b.lstrip().startswith(">>>"))
    test = doctest.DocTestParser().get_doctest(source, {}, "quantization.md", str(DOC), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda text: pytest.fail(text))
    assert runner.summarize(verbose=False).attempted >= 6
