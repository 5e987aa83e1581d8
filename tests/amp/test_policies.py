"""Presets, user policies (dict, TOML, JSON), validation errors, autocast."""
import json

import numpy as np
import pytest

import numprec
from numprec import functional as F
from numprec.amp import (OP_CLASSES, PRESETS, Pass, autocast, get_autocast_policy, get_policy,
                         policy_from_dict, policy_from_file)
from numprec.autodiff import NATIVE


def test_presets_follow_their_descriptions():
    assert set(PRESETS) == {"fp64", "fp32", "fp16", "fp16-amp", "bf16-amp", "fp8-hybrid", "int8-qat",
                            "mxfp8", "mxfp4", "nvfp4"}
    amp = get_policy("fp16-amp")
    assert amp.pass_for("matmul") == Pass("fp16", "fp32", "fp16")
    assert amp.pass_for("matmul", "backward") == Pass("fp16", "fp32", "fp16")
    for cls in ("transcendental", "reduction", "softmax", "norm", "loss"):
        assert amp.pass_for(cls) == Pass("fp32", "fp32", "fp32")
    assert amp.pass_for("elementwise") == Pass()  # widest input format, as autocast does
    assert (amp.master, amp.optimizer_state, amp.loss_scale) == ("fp32", "fp32", "dynamic")
    assert get_policy("bf16-amp").pass_for("matmul").input == "bf16"
    fp16 = get_policy("fp16")
    assert fp16.master == "fp16" and fp16.pass_for("softmax").output == "fp16"
    fp8 = get_policy("fp8-hybrid")
    assert fp8.pass_for("matmul").input == "fp8_e4m3fn" and fp8.pass_for("matmul").scaling == "delayed"
    assert fp8.pass_for("matmul", "backward").input == "fp8_e5m2"


def test_dict_policy_inherits_from_a_base_and_overrides_fields():
    policy = policy_from_dict({"name": "sr-amp", "base": "bf16-amp", "mode": "sr", "seed": 3,
                               "classes": {"matmul": {"acc": "bf16", "order": "pairwise"},
                                           "softmax": {"backward": {"output": "bf16"}}}})
    assert policy.mode == "sr" and policy.update_mode == "sr" and policy.seed == 3
    assert policy.pass_for("matmul") == Pass("bf16", "bf16", "bf16", order="pairwise")
    assert policy.pass_for("softmax") == Pass("fp32", "fp32", "fp32")
    assert policy.pass_for("softmax", "backward").output == "bf16"
    assert policy.master == "fp32"


def test_policy_files_in_toml_and_json(tmp_path):
    toml = tmp_path / "mine.toml"
    toml.write_text('base = "fp32"\nloss_scale = 1024\n[default]\ninput = "promote"\n'
                    '[classes.matmul]\ninput = "fp8_e4m3fn"\nscaling = "current"\n'
                    '[classes.matmul.backward]\ninput = "e5m2"\n')
    policy = get_policy(str(toml))
    assert policy.name == "mine" and policy.loss_scale == 1024
    assert policy.pass_for("matmul").scaling == "current"
    assert policy.pass_for("matmul", "backward").input == "e5m2"
    described = get_policy("fp16-amp").describe()
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(described))
    assert policy_from_file(path).describe() == described


@pytest.mark.parametrize("spec, message", [
    ({"classes": {"attention": {"input": "fp16"}}},
     "unknown op class 'attention'; valid classes: matmul, elementwise"),
    ({"classes": {"matmul": {"input": "fp17"}}},
     r"classes.matmul.forward.input: unknown format 'fp17'"),
    ({"default": {"output": "bf17"}}, r"default.output: unknown format 'bf17'"),
    ({"classes": {"matmul": {"order": "random"}}}, "unknown accumulation order 'random'"),
    ({"classes": {"matmul": {"precision": "fp16"}}}, "unknown field.*precision.*valid fields"),
    ({"mode": "nearest"}, "invalid rounding mode 'nearest'; valid modes: rne"),
    ({"master": "fp99"}, r"master: unknown format 'fp99'"),
    ({"loss_scale": -1}, "loss_scale must be None, 'dynamic' or a positive number"),
    ({"dtype": "fp16"}, r"unknown key\(s\) dtype; valid keys"),
    ({"classes": {"matmul": {"scaling": "delayed"}}}, "per-tensor scaling needs an explicit input"),
    ({"classes": {"softmax": {"input": "e4m3", "scaling": "current"}}},
     "only the matmul class can have it"),
])
def test_bad_policies_are_clear_errors(spec, message):
    with pytest.raises((ValueError, TypeError), match=message):
        policy_from_dict(spec)


def test_unknown_preset_and_file_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown policy 'fp12-amp'; valid presets: fp64, fp32"):
        get_policy("fp12-amp")
    with pytest.raises(ValueError, match="does not exist"):
        get_policy(str(tmp_path / "none.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("mode = ")
    with pytest.raises(ValueError, match="is not valid TOML"):
        get_policy(str(bad))
    with pytest.raises(ValueError, match="unknown op class 'conv'"):
        get_policy("fp32").pass_for("conv")


def test_autocast_default_nesting_disable_and_restore():
    assert get_autocast_policy() is NATIVE
    with autocast() as outer:
        assert outer.name == "fp16-amp" and get_autocast_policy() is outer
        with autocast(dtype="bf16"):
            assert get_autocast_policy().name == "bf16-amp"
            with autocast(enabled=False):
                assert get_autocast_policy() is NATIVE
        assert get_autocast_policy() is outer
    with pytest.raises(KeyError):
        with autocast("fp32"):
            raise KeyError("boom")
    assert get_autocast_policy() is NATIVE
    with pytest.raises(ValueError, match="unsupported dtype 'int8'"):
        autocast(dtype="int8")


def test_autocast_as_decorator_and_backward_uses_the_forward_policy():
    @autocast("fp16")
    def forward(x):
        return F.tanh(x)
    x = numprec.Tensor(np.array([0.3, -1.7], np.float32), requires_grad=True)
    y = forward(x)
    assert y.format.name == "fp16"
    y.backward(np.ones(2))  # outside autocast: the fp16 backward pass still applies
    expected = np.float16(1.0 - y.data ** 2).astype(float)
    np.testing.assert_array_equal(x.grad, expected)


def test_every_class_has_a_description():
    assert list(OP_CLASSES) == ["matmul", "elementwise", "transcendental", "reduction", "pool",
                                "softmax", "norm", "loss"]
