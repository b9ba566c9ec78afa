"""Networks built from config records: shapes, parameter counts, exact inverses, determinism."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import perturb
from wincli.models import PAPER_PARAMS, build_model, count_params, preset_config
from wincli.models.config import ModelConfig

ALL = [
    ("hiding", dict(secrets=1)),
    ("hiding", dict(secrets=2)),
    ("hiding", dict(secrets=3)),
    ("hiding", dict(secrets=4)),
    ("rescaling", dict(scale=2)),
    ("rescaling", dict(scale=4)),
    ("decolorization", {}),
]


def _kw(name: str) -> tuple[str, dict]:
    task = name.split("-")[0]
    if task == "hiding":
        return task, {"secrets": int(name[-1])}
    if task == "rescaling":
        return task, {"scale": int(name[-1])}
    return task, {}


@pytest.mark.parametrize("variant", ["win", "win-naive"])
@pytest.mark.parametrize("task,kw", ALL)
def test_output_shapes(task, kw, variant):
    net = build_model(task, variant=variant, preset="cpu", **kw)
    cfg = net.config
    x = torch.rand(1, cfg.c_in, 32, 32)
    with torch.no_grad():
        y = net(x)
        s = cfg.scale if task == "rescaling" else 1
        assert y.shape == (1, cfg.c_out, 32 // s, 32 // s)
        assert net.inverse(y).shape == x.shape
    expected_out = {"hiding": 3, "decolorization": 1}.get(task, 12 if kw.get("scale") == 4 else 3)
    assert cfg.c_out == expected_out


@pytest.mark.parametrize("key", sorted(PAPER_PARAMS))
def test_paper_preset_parameter_counts(key):
    name, variant = key
    task, kw = _kw(name)
    n = count_params(build_model(task, variant=variant, preset="paper", **kw))
    paper = PAPER_PARAMS[key] * 1e6
    assert abs(n - paper) / paper < 0.15, f"{name} {variant}: {n:,} vs paper {paper:,.0f}"


@pytest.mark.parametrize("task,kw", ALL)
def test_cpu_preset_is_small(task, kw):
    n = count_params(build_model(task, preset="cpu", **kw))
    assert n < (2_100_000 if kw.get("scale") == 4 else 700_000)


@pytest.mark.parametrize("variant", ["win", "win-naive"])
@pytest.mark.parametrize("task,kw", ALL)
def test_network_inverts_with_all_channels(task, kw, variant):
    """float64: every WIC before the fusion is well-posed, so features invert to 1e-8; the
    fusion inverts exactly when its augmented channels are given."""
    torch.manual_seed(0)
    net = perturb(build_model(task, variant=variant, preset="cpu", **kw), 0.05).double()
    x = torch.rand(2, net.config.c_in, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        f = net.features(x)
        assert float((net.features_inverse(f) - x).norm() / x.norm()) < 1e-8
        y, extra = net.forward_train(x)
        full = torch.cat([y, extra], 1)
        f_back = torch.nn.functional.conv2d(full, net.fusion.left_inverse()[:, :, None, None])
        x_back = net.features_inverse(f_back)
    assert float((x_back - x).norm() / x.norm()) < 1e-8


def test_reverse_is_deterministic():
    torch.manual_seed(0)
    net = perturb(build_model("hiding", secrets=1, preset="cpu"), 0.05)
    y = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        a, b = net.inverse(y), net.inverse(y)
    assert torch.equal(a, b)


def test_config_round_trip_and_validation():
    cfg = preset_config("hiding", secrets=2, preset="cpu")
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        ModelConfig(task="hiding", secrets=5)
    with pytest.raises(ValueError):
        ModelConfig(task="rescaling", scale=3)
    with pytest.raises(ValueError):
        ModelConfig.from_dict({"task": "hiding", "bogus": 1})


def test_task_aware_init_fits_target():
    torch.manual_seed(0)
    net = build_model("hiding", secrets=1, preset="cpu")
    x = torch.rand(2, 6, 16, 16)
    fit = net.init_task_aware(x, net.config.spec.target(x))
    assert fit > 100  # the stego starts as the cover exactly
    with torch.no_grad():
        assert torch.allclose(net(x), x[:, :3], atol=1e-5)
        assert abs(float(net.log_det_penalty())) < 1e-6


def test_task_names_parse_and_round_trip():
    import pytest

    from wincli.models import ModelConfig
    from wincli.tasks import TASK_NAMES, parse_task

    for name in TASK_NAMES:
        assert ModelConfig(**parse_task(name).kwargs()).name == name
    for bad in ("hiding-5", "rescaling-x3", "rescaling", "colour", "hiding-x"):
        with pytest.raises(ValueError, match="unknown task name"):
            parse_task(bad).kwargs()


@pytest.mark.parametrize("variant", ["win", "win-naive"])
@pytest.mark.parametrize("task,kw", [("rescaling", dict(scale=4)), ("hiding", dict(secrets=2))])
def test_grown_network_computes_what_it_grew_from(task, kw, variant):
    """``win train --init-from F --couplings N`` appends identity couplings: the grown network
    has more parameters but the same forward and inverse, so training goes on from F."""
    from wincli.models import coupling_count, grow_couplings

    torch.manual_seed(0)
    net = perturb(build_model(task, variant=variant, preset="cpu", **kw), 0.05)
    have = coupling_count(net.config)
    grown = grow_couplings(net, have + 2)
    assert coupling_count(grown.config) == have + 2
    assert count_params(grown) > count_params(net)
    x = torch.rand(1, net.config.c_in, 16, 16)
    with torch.no_grad():
        y = net(x)
        assert torch.equal(grown(x), y)
        assert torch.equal(grown.inverse(y), net.inverse(y))
    with pytest.raises(ValueError, match="cannot shrink"):
        grow_couplings(grown, have)


@pytest.mark.parametrize("name", ["rescaling-x2", "rescaling-x4", "decolorization", "hiding-1"])
def test_a_new_restorer_starts_as_the_identity_and_round_trips_through_a_file(name, tmp_path):
    import dataclasses

    from wincli.checkpoint import load_model, save_model
    from wincli.models import build_from_config
    from wincli.tasks import parse_task

    task = parse_task(name)
    torch.manual_seed(0)
    plain = build_model(preset="cpu", **task.kwargs())
    robust = build_from_config(dataclasses.replace(plain.config, restorer=16))
    missing, unexpected = robust.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("restorer.") for k in missing)
    side = 34 if name == "rescaling-x2" else 36  # rescaling: odd stored sizes, padded and cropped
    y = plain(torch.rand(1, task.c_in, side, side))
    assert torch.equal(robust.inverse(y), plain.inverse(y))
    with torch.no_grad():
        robust.restorer.tail.weight.normal_(0, 0.01)
    save_model(robust, tmp_path / "r.safetensors")
    back = load_model(tmp_path / "r.safetensors")
    assert back.config.restorer == 16 and "restorer" not in plain.config.to_dict()
    assert torch.equal(back.inverse(y), robust.inverse(y))
    assert not torch.equal(back.inverse(y), plain.inverse(y))


@pytest.mark.parametrize("variant", ["win", "win-naive"])
@pytest.mark.parametrize(
    "task,kw",
    [("rescaling", dict(scale=2)), ("rescaling", dict(scale=4)), ("hiding", dict(secrets=1))],
)
def test_growing_to_the_paper_preset_keeps_the_function(task, kw, variant):
    """``--grow paper``: wider dense blocks (new channels unread) and identity couplings; the
    grown network is the paper's architecture and computes what the source computes, forward
    and inverse, to float rounding."""
    from wincli.models import preset_config
    from wincli.models.grow import grow, grow_targets

    torch.manual_seed(0)
    net = perturb(build_model(task, variant=variant, preset="cpu", **kw), 0.05).eval()
    grown = grow(net, **grow_targets(net.config, ["paper"])).eval()
    assert grown.config == preset_config(task, variant=variant, preset="paper", **kw)
    assert count_params(grown) > 3 * count_params(net)
    x = torch.rand(1, net.config.c_in, 16, 16)
    with torch.no_grad():
        y = net(x)
        assert torch.allclose(grown(x), y, rtol=1e-4, atol=1e-5)
        # the perturbed x4 inverse amplifies float rounding (outputs in the hundreds)
        assert torch.allclose(grown.inverse(y), net.inverse(y), rtol=1e-3, atol=1e-3)


def test_growth_refuses_what_it_cannot_keep_and_shrinking():
    from wincli.models.grow import grow, grow_targets

    net = build_model("rescaling", scale=2, preset="cpu")
    with pytest.raises(ValueError, match="only couplings"):
        grow_targets(net.config, ["width=64"])
    with pytest.raises(ValueError, match="not shrink"):
        grow(net, growth=8)
    with pytest.raises(ValueError, match="unknown preset"):
        grow_targets(net.config, ["huge"])
