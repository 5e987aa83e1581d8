"""Old import paths keep working, with a DeprecationWarning naming the new one."""
import importlib
import sys

import pytest

import numprec.policy as policy

OLD_PATHS = {
    "numprec.autodiff.policy": ("numprec.policy.policy", ["Policy", "Pass", "OP_CLASSES",
                                                          "ORDERS", "NATIVE", "PROMOTE"]),
    "numprec.autodiff.scaling": ("numprec.policy.scaling", ["DelayedScaling", "scale_from_amax"]),
    "numprec.autodiff.precision": ("numprec.policy.arithmetic", ["OpArithmetic", "Kernel",
                                                                 "round_to", "contains",
                                                                 "widest", "WEAK"]),
    "numprec.amp.presets": ("numprec.policy.presets", ["PRESETS", "DEFAULT_AUTOCAST"]),
    "numprec.amp.loader": ("numprec.policy.loader", ["get_policy", "policy_from_dict",
                                                     "policy_from_file", "preset_names"]),
}


@pytest.mark.parametrize("old", list(OLD_PATHS))
def test_old_module_imports_with_a_deprecation_warning(old, monkeypatch):
    new, names = OLD_PATHS[old]
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated: import from {new}"):
        module = importlib.import_module(old)
    for name in names:
        assert hasattr(module, name), name


def test_old_names_are_the_new_objects(monkeypatch):
    monkeypatch.delitem(sys.modules, "numprec.autodiff.precision", raising=False)
    with pytest.warns(DeprecationWarning):
        old = importlib.import_module("numprec.autodiff.precision")
    assert old.Kernel is policy.OpArithmetic
    import numprec.amp as amp
    import numprec.autodiff as autodiff
    assert amp.Policy is autodiff.Policy is policy.Policy
    assert amp.PRESETS is policy.PRESETS and amp.DelayedScaling is policy.DelayedScaling
