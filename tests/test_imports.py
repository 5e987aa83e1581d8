"""The package imports as a chain: every module imports on its own in a fresh interpreter (so no
module depends on another having been imported first), and no module-level import cycle exists."""
import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "numprec"
# Deprecated import paths: they import, and warn, by design.
SHIMS = {"numprec.autodiff.policy", "numprec.autodiff.scaling", "numprec.autodiff.precision",
         "numprec.amp.presets", "numprec.amp.loader"}


def _modules() -> dict:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":  # `python -m numprec` runs the CLI: not for importing
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _import_alone(name):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                                     os.environ.get("PYTHONPATH")])))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    done = subprocess.run([sys.executable, "-c", f"import {name}"], env=env,
                          capture_output=True, text=True, timeout=300, cwd=str(ROOT))
    return name, done.returncode, done.stderr[-3000:]


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(_import_alone, MODULES))
    failed = {name: err for name, code, err in results if code != 0}
    assert not failed, "\n\n".join(f"{name}:\n{err}" for name, err in failed.items())
    assert len(results) > 100


def _imported(module: str, path: Path) -> set:
    """The package modules `module` imports at module level (function bodies are not followed)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + [node.module or ""])
                base = base.rstrip(".")
            else:
                base = node.module or ""
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in candidates:
            if name in MODULES and name != module:
                out.add(name)
                break
    return out


def _cycle(graph):
    visiting, done = [], set()

    def visit(node):
        if node in done:
            return None
        if node in visiting:
            return visiting[visiting.index(node):] + [node]
        visiting.append(node)
        for nxt in sorted(graph[node]):
            found = visit(nxt)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        found = visit(node)
        if found:
            return found
    return None


def test_no_module_level_import_cycle():
    # Package __init__ files re-export their modules: an edge into a package means its modules.
    graph = {name: {t for t in _imported(name, path) if not MODULES[t].name == "__init__.py"}
             for name, path in MODULES.items() if path.name != "__init__.py"}
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_no_module_imports_a_deprecated_path():
    users = {name: _imported(name, path) & SHIMS for name, path in MODULES.items()}
    assert not {name: shims for name, shims in users.items() if shims}


@pytest.mark.parametrize("module", ["numprec.autodiff.tensor", "numprec.autodiff.graph"])
def test_the_tensor_core_and_the_graph_import_no_op(module):
    ops = {"elementwise", "linalg", "reductions", "movement", "nnops", "conv", "attention",
           "functional", "operators"}
    imported = _imported(module, MODULES[module])
    assert not {m for m in imported if m.rsplit(".", 1)[-1] in ops}, imported


# What answers at once: importing numprec, its formats and finfo, and the command line's help
# and format table load neither numba nor pandas (numba loads on the first kernel call; `bench
# NAME --help` is the benchmark's own, loaded with it).
_LIGHT = """
import sys
import numprec
numprec.finfo("fp16"), numprec.get_format("e4m3"), numprec.format_names()
from numprec.cli import main
for argv in {argvs!r}:
    try:
        main(argv)
    except SystemExit:
        pass
heavy = sorted(m for m in ("numba", "pandas", "matplotlib", "scipy") if m in sys.modules)
print("HEAVY", ",".join(heavy))
x = numprec.round([1.0 + 2.0 ** -11, 3.0], "fp16")  # the first kernel call loads numba
print("ROUNDED", x.tolist(), "numba" in sys.modules)
"""


def test_import_formats_and_cli_help_load_no_numba_until_the_first_kernel_call():
    argvs = [["--help"], ["formats"], ["train", "--help"], ["report", "--help"],
             ["study", "--help"], ["advise", "--help"], ["inspect", "--help"]]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                                     os.environ.get("PYTHONPATH")])))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    done = subprocess.run([sys.executable, "-c", _LIGHT.format(argvs=argvs)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines()
                 if line.startswith(("HEAVY", "ROUNDED")))
    assert lines["HEAVY"] == "", f"loaded before any kernel ran: {lines['HEAVY']}"
    assert lines["ROUNDED"] == "[1.0, 3.0] True"
