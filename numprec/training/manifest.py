"""run.json: what a run directory is and how it was made.

Every run directory holds one. `kind` ("numprec-run") and `schema` are how `numprec report`
tells a run from something else; the rest says how to make it again: numprec and dependency
versions, the git commit of the checkout (if numprec runs from one), the CPU and its vector
extensions, the backend and threads, the command line and the config. `status` is "running"
while the run trains, then "ok" or "stopped" (with the reason and the first non-finite op).
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata

from ..machine import cpu_flags, cpu_model
from .outputs import write_json

RUN_KIND = "numprec-run"
SCHEMA_VERSION = 1
MANIFEST = "run.json"
DEPENDENCIES = ("numpy", "numba", "numba-cuda", "scipy", "pandas", "pyarrow", "matplotlib",
                "ml_dtypes", "tensorboardX")


def _versions() -> dict:
    found = {}
    for name in DEPENDENCIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _git_commit() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        done = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 else None


def new_manifest(config: dict, argv=None) -> dict:
    """The manifest of a run starting now."""
    import numba

    from .. import __version__
    from ..ops.backend import get_backend
    return {"kind": RUN_KIND, "schema": SCHEMA_VERSION, "numprec": __version__,
            "dependencies": _versions(), "python": platform.python_version(),
            "git_commit": _git_commit(), "cpu": cpu_model(), "cpu_vector_extensions": cpu_flags(),
            "platform": platform.platform(), "backend": get_backend(),
            "threads": numba.get_num_threads(),
            "command_line": list(sys.argv if argv is None else argv), "config": config,
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "status": "running"}


def write_manifest(directory: str, manifest: dict) -> str:
    return write_json(os.path.join(directory, MANIFEST), manifest)


def read_manifest(directory) -> dict:
    """A run directory's manifest; ValueError (one line) when it is missing, unreadable or not a
    numprec run."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"run directory {directory!r} does not exist")
    path = os.path.join(directory, MANIFEST)
    if not os.path.isfile(path):
        raise ValueError(f"{directory!r} is not a numprec run (no {MANIFEST})")
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path!r} is corrupt ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'unreadable'})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != RUN_KIND:
        raise ValueError(f"{path!r} is not a numprec run manifest")
    if manifest.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"{path!r} has schema {manifest.get('schema')!r}; this numprec reads "
                         f"schema {SCHEMA_VERSION}")
    return manifest


__all__ = ["RUN_KIND", "SCHEMA_VERSION", "MANIFEST", "new_manifest", "write_manifest",
           "read_manifest"]
