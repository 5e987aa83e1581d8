"""What `pip install .` installs: every package under numprec (subpackages included), the digits
data as package data, and nothing else (analysis/ holds checkout-only scripts)."""
import configparser
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def _config():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return parser


def test_every_folder_of_modules_is_a_package():
    # find_packages skips a folder without __init__.py: its modules would import in a checkout
    # (as a namespace package) and be missing after `pip install .`.
    folders = {p.parent for p in (ROOT / "numprec").rglob("*.py")}
    assert not [str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists()]


def test_every_numprec_package_installs_and_nothing_else():
    include = _config()["options.packages.find"]["include"].split()
    installed = set(find_packages(str(ROOT), include=include))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "numprec").rglob("__init__.py")}
    assert installed == on_disk
    assert not any(name.split(".")[0] != "numprec" for name in installed)


def test_the_data_files_install_as_package_data():
    data = _config()["options.package_data"]
    patterns = {package: value.split() for package, value in data.items()}
    shipped = {p.name for p in (ROOT / "numprec" / "data").iterdir() if p.suffix == ".npz"}
    assert shipped == {"digits.npz"}
    assert all(any(Path(name).match(pattern) for pattern in patterns["numprec.data"])
               for name in shipped)
