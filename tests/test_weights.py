"""Weights registry and resolution: offline Hub cache, sha256, safetensors only."""

from __future__ import annotations

import json
import shutil
from unittest import mock

import pytest

from wincli import weights as W
from wincli.errors import WeightsError
from wincli.models import count_params

REV = "0123456789abcdef0123456789abcdef01234567"


def _record(path, name="hiding-1-test", repo="wincli-test/win", revision="main"):
    from wincli.checkpoint import read_metadata

    cfg = json.loads(read_metadata(path)["config"])
    from wincli.checkpoint import load_model

    return W.WeightsRecord(
        name=name,
        task=cfg["task"],
        variant=cfg["variant"],
        preset="cpu",
        config=cfg,
        file=path.name,
        sha256=W.sha256_file(path),
        params=count_params(load_model(path)),
        secrets=cfg.get("secrets", 1),
        scale=cfg.get("scale", 2),
        repo_id=repo,
        revision=revision,
    )


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No bundled folder, no override; HF_HOME in a temp dir; offline."""
    monkeypatch.setattr(W, "bundled_dir", lambda: None)
    monkeypatch.delenv("WIN_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hf"


def _lay_out_cache(hf_home, repo, file_path):
    """The layout huggingface_hub writes: models--ORG--NAME/{refs/main, snapshots/REV/FILE}."""
    root = hf_home / "hub" / f"models--{repo.replace('/', '--')}"
    snap = root / "snapshots" / REV
    snap.mkdir(parents=True)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(REV)
    shutil.copy(file_path, snap / file_path.name)
    return snap / file_path.name


def test_resolves_through_hf_cache_offline(isolated, checkpoints):
    rec = _record(checkpoints["hiding-1"])
    cached = _lay_out_cache(isolated, rec.repo_id, checkpoints["hiding-1"])
    path, source = W.resolve(rec)
    assert path.resolve() == cached.resolve()
    assert "Hugging Face cache" in source
    net, _, _ = W.load_record(rec)
    assert count_params(net) == rec.params


def test_tampered_file_fails_hash_check(isolated, checkpoints):
    rec = _record(checkpoints["hiding-1"])
    cached = _lay_out_cache(isolated, rec.repo_id, checkpoints["hiding-1"])
    data = bytearray(cached.read_bytes())
    data[-1] ^= 0xFF
    cached.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256 .* does not match"):
        W.load_record(rec)


def test_missing_file_names_repo_file_revision(isolated, checkpoints):
    rec = _record(checkpoints["hiding-1"], revision="v1")
    with pytest.raises(WeightsError) as err:
        W.resolve(rec)
    msg = str(err.value)
    assert rec.repo_id in msg and rec.file in msg and "v1" in msg and "--weights" in msg


def test_override_dir_comes_first(isolated, checkpoints, tmp_path, monkeypatch):
    rec = _record(checkpoints["hiding-1"])
    d = tmp_path / "override"
    d.mkdir()
    shutil.copy(checkpoints["hiding-1"], d / rec.file)
    monkeypatch.setenv("WIN_WEIGHTS_DIR", str(d))
    path, source = W.resolve(rec)
    assert path == d / rec.file and "WIN_WEIGHTS_DIR" in source


def test_default_record_and_missing_task():
    recs = [
        W.WeightsRecord(
            name="a",
            task="rescaling",
            variant="win",
            preset="cpu",
            config={},
            file="a",
            sha256="",
            params=0,
            scale=2,
        ),
        W.WeightsRecord(
            name="b",
            task="rescaling",
            variant="win",
            preset="cpu",
            config={},
            file="b",
            sha256="",
            params=0,
            scale=2,
            default=True,
        ),
    ]
    assert W.default_record("rescaling", scale=2, registry=recs).name == "b"
    with pytest.raises(WeightsError, match="--weights"):
        W.default_record("rescaling", scale=4, registry=recs)


def test_only_safetensors_and_corrupt_files(tmp_path, checkpoints):
    pt = tmp_path / "model.pt"
    pt.write_bytes(b"\x80\x04not a pickle we would ever open")
    with pytest.raises(WeightsError, match="only .safetensors"):
        W.load_weights_file(pt)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        W.load_weights_file(bad)
    from wincli.models import preset_config

    with pytest.raises(WeightsError, match="not rescaling"):
        W.load_weights_file(checkpoints["hiding-1"], preset_config("rescaling", preset="cpu"))


def test_every_bundled_checkpoint_matches_its_record():
    records = W.load_registry()
    folder = W.bundled_dir()
    assert folder is not None, "the repository's weights/ folder must be found"
    for rec in records:
        W.verify(rec, folder / rec.file)
        net, _, source = W.load_record(rec, allow_download=False)
        assert "bundled" in source or "WIN_WEIGHTS_DIR" in source
        assert count_params(net) == rec.params, rec.name
        assert net.config.to_dict() == rec.config
    tasks = {(r.task, r.secrets if r.task == "hiding" else r.scale) for r in records if r.default}
    assert len(tasks) == len([r for r in records if r.default]), "one default per task"


RECORD_KEYS = {  # the registry schema: every key a record may have, and its type
    "name": str, "task": str, "secrets": int, "scale": int, "variant": str, "preset": str,
    "config": dict, "file": str, "sha256": str, "params": int, "default": bool,
    "repo_id": str, "revision": str, "recipe": dict, "metrics": dict, "status": str,
    "bytes_per_pixel": (int, float), "encoder": dict, "robust": dict, "bf16": dict,
    "seconds_12mp": dict,
}  # fmt: skip
SECONDS_KEYS = {"store", "restore", "cores", "load_at_start", "measured", "command"}
ROBUST_KEYS = {"jpeg", "share"}
ENCODER_KEYS = {"file", "sha256", "params", "config", "recipe", "heldout"}
ENCODER_RECIPE_KEYS = {
    "command", "data", "steps", "schedule_steps", "batch", "patch", "lr", "stored_weight", "notes",
}  # fmt: skip
RECIPE_KEYS = {
    "command", "data", "steps", "schedule_steps", "batch", "patch", "lr", "lambda_forward",
    "init_from", "ste", "train_cpu_hours", "train_cpu_hours_total", "train_gpu_hours", "notes",
}  # fmt: skip


def test_registry_records_follow_the_schema():
    """Every record has known keys of the right types, a task-specific field only where the
    task has it, a config that builds, and nested metrics (set -> 8bit/float -> metric) for the
    task's benchmarks; unknown keys anywhere are rejected (as torchvision checks its weights)."""
    from wincli.evaluate import check_metrics
    from wincli.models import ModelConfig

    doc = json.loads((W.registry_path()).read_text())
    assert set(doc) == {"hub", "models"}
    for rec in doc["models"]:
        assert set(rec) <= set(RECORD_KEYS), set(rec) - set(RECORD_KEYS)
        for k, v in rec.items():
            assert isinstance(v, RECORD_KEYS[k]), (rec["name"], k)
        cfg = ModelConfig.from_dict(rec["config"])
        spec = cfg.spec
        assert cfg.task == rec["task"] and rec["name"].startswith(spec.name), rec["name"]
        for field_ in ("secrets", "scale"):
            assert (field_ in rec) == (field_ in spec.config_fields()), (rec["name"], field_)
        assert len(rec["sha256"]) == 64 and rec["file"].endswith(".safetensors")
        assert set(rec["recipe"]) <= RECIPE_KEYS, set(rec["recipe"]) - RECIPE_KEYS
        check_metrics(spec, rec["metrics"])
        assert rec["metrics"], rec["name"]
        if "encoder" in rec:  # its one-pass encoder: a file of its own, and its default numbers
            enc = rec["encoder"]
            assert set(enc) == ENCODER_KEYS, set(enc) ^ ENCODER_KEYS
            assert len(enc["sha256"]) == 64 and enc["file"].endswith(".safetensors")
            assert set(enc["recipe"]) <= ENCODER_RECIPE_KEYS
            assert all("one_pass" in entry for entry in rec["metrics"].values()), rec["name"]
        if "robust" in rec:  # trained through JPEG: its qualities, and its numbers after each
            assert ROBUST_KEYS <= set(rec["robust"]) <= ROBUST_KEYS | {"stages"}, rec["name"]
            assert not rec["default"], rec["name"]
            for stage in rec["robust"].get("stages", []):  # a model continued at other qualities
                assert set(stage) == ROBUST_KEYS | {"steps"}, rec["name"]
            for entry in rec["metrics"].values():
                assert {"jpeg_q95", "jpeg_q90", "jpeg_q75", "jpeg_q50"} <= set(entry), rec["name"]
        if "seconds_12mp" in rec:  # what `win models list` shows: scripts/time_12mp.py's record
            assert set(rec["seconds_12mp"]) == SECONDS_KEYS, rec["name"]
            assert "time_12mp.py" in rec["seconds_12mp"]["command"], rec["name"]
        else:  # a task's default is chosen by its 12 MP time, so every default has one
            assert not rec["default"], f"{rec['name']}: no 12 MP time (scripts/time_12mp.py)"
        if "bf16" in rec:  # bf16 minus fp32, per set and image, and the command that measured it
            assert set(rec["bf16"]) == {"delta_db", "command"}, rec["name"]
            sets = {*rec["metrics"], "held-out"}
            spec_names = {spec.stored_name, spec.restored_name}
            for key, delta in rec["bf16"]["delta_db"].items():
                set_name, _, image = key.rpartition(" ")
                assert set_name in sets and image in spec_names, (rec["name"], key)
                assert isinstance(delta, float) and abs(delta) < 3, (rec["name"], key)


def test_registered_encoders_serve_their_model():
    """Every shipped encoder file loads (hash-checked) for its own network, with no download."""
    from wincli.weights import load_record, load_record_encoder, load_registry

    for rec in load_registry():
        if rec.encoder:
            net, _, _ = load_record(rec, allow_download=False)
            assert load_record_encoder(rec, net, allow_download=False) is not None


def test_metric_schema_rejects_what_it_does_not_know():
    from wincli.evaluate import check_metrics
    from wincli.tasks import Hiding, Rescaling

    good = {"Kodak24": {"crop": 512, "8bit": {"stego_psnr": 40.0, "secret_psnr": 37.0}}}
    check_metrics(Hiding(1), good)
    for bad in (
        {"Kodak24_crop512_stego_psnr": 40.0},  # the old flat form
        {"Kodak24": {"crop": 256, "8bit": {"stego_psnr": 40.0}}},  # another protocol
        {"Kodak24": {"crop": 512, "8bit": {"hr_psnr": 40.0}}},  # another task's metric
        {"Kodak24": {"crop": 512, "8bit": {"stego_psnr": "40"}}},
        {"Kodak24": {"crop": 512, "8bit": {}, "bicubic": {}}},
        {"Kodak24": {"crop": 512}},
    ):
        with pytest.raises(ValueError):
            check_metrics(Hiding(1), bad)
    with pytest.raises(ValueError):
        check_metrics(Rescaling(2), good)


def test_publish_uses_hfapi(monkeypatch, tmp_path, checkpoints):
    import wincli.publish as pub

    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(checkpoints["hiding-1"], folder / "hiding-1.safetensors")
    rec = _record(folder / "hiding-1.safetensors")
    (folder / "registry.json").write_text(json.dumps({"models": []}))
    monkeypatch.setattr(W, "bundled_dir", lambda: folder)
    monkeypatch.setattr(W, "load_registry", lambda path=None: [rec])
    api = mock.MagicMock()
    api.create_commit.return_value.oid = "abc123"
    assert pub.publish("org/name", api=api) == "abc123"
    api.create_repo.assert_called_once_with("org/name", repo_type="model", exist_ok=True)
    ops = api.create_commit.call_args.kwargs["operations"]
    assert {op.path_in_repo for op in ops} == {"hiding-1.safetensors", "README.md", "registry.json"}
    card = next(op for op in ops if op.path_in_repo == "README.md").path_or_fileobj.decode()
    assert card.startswith("---\nlicense: mit") and "### hiding-1-test" in card
    assert rec.sha256 in card  # the same card as docs/models.md's


def test_altered_tensor_bytes_are_refused_and_unhashed_files_warn(tmp_path, checkpoints):
    from safetensors.torch import load_file, save_file

    from wincli.checkpoint import CONTENT_KEY, read_metadata
    from wincli.errors import WeightsError
    from wincli.weights import load_weights_file

    src = checkpoints["rescaling-x2"]
    meta = read_metadata(src)
    assert CONTENT_KEY in meta
    state = load_file(str(src))
    name = sorted(state)[0]
    state[name] = state[name] + 1e-3  # same shapes, one tensor altered, header kept
    save_file(state, str(tmp_path / "bad.safetensors"), metadata=meta)
    with pytest.raises(WeightsError, match="content hash"):
        load_weights_file(tmp_path / "bad.safetensors")
    plain = {k: v for k, v in meta.items() if k != CONTENT_KEY}
    save_file(load_file(str(src)), str(tmp_path / "old.safetensors"), metadata=plain)
    with pytest.warns(UserWarning, match="no content hash"):
        load_weights_file(tmp_path / "old.safetensors")


def test_missing_weights_dir_is_named_not_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("WIN_WEIGHTS_DIR", str(tmp_path / "nope"))
    rec = W.default_record("rescaling", scale=2)
    with pytest.warns(UserWarning, match="WIN_WEIGHTS_DIR"):
        W.resolve(rec, allow_download=False)


def test_model_cards_are_up_to_date():
    """docs/models.md is generated from the registry (python scripts/model_cards.py)."""
    from tests.conftest import REPO
    from wincli.cards import figures_in, render_model_cards
    from wincli.weights import load_registry

    figures = figures_in(REPO / "docs" / "figures")
    assert (REPO / "docs" / "models.md").read_text() == render_model_cards(
        load_registry(), figures
    ), "docs/models.md is stale: run python scripts/model_cards.py"


def test_every_shipped_model_has_its_measurements_and_figure():
    """Each card states its peak memory and bf16 decision and links a figure of the model."""
    from tests.conftest import REPO
    from wincli.cards import figures_in, render_model_cards
    from wincli.weights import load_registry

    figures = figures_in(REPO / "docs" / "figures")
    for rec in load_registry():
        card = render_model_cards([rec], figures)
        for fact in ("- peak memory:", "- bf16 against fp32", "- figure: "):
            assert fact in card, f"{rec.name}: its card lacks '{fact}'"


def test_registry_changes_are_checked_and_keep_one_default(tmp_path):
    """The release tools' write API: a new default takes over from the model it displaces, a
    re-shipped architecture keeps its measured memory, a robust record leaves the default
    alone, and a record with metrics off the schema is refused with the file unchanged."""
    from wincli import registry as R

    path = tmp_path / "registry.json"
    path.write_text(W.registry_path().read_text())
    old = next(r for r in R.read_json(path)["models"] if r["name"] == "rescaling-x2-win-cpu")
    new = {**old, "name": "rescaling-x2-new", "default": True}
    new.pop("bytes_per_pixel", None)
    R.add_record(new, path)
    models = {m["name"]: m for m in R.read_json(path)["models"]}
    assert models["rescaling-x2-new"]["default"] and not models["rescaling-x2-win-cpu"]["default"]
    assert models["rescaling-x2-win-cpu-robust"]["robust"]  # untouched
    again = {k: v for k, v in old.items() if k != "bytes_per_pixel"}
    R.add_record(again, path)  # re-shipped under its name with the same config
    models = {m["name"]: m for m in R.read_json(path)["models"]}
    assert models["rescaling-x2-win-cpu"]["bytes_per_pixel"] == old["bytes_per_pixel"]
    assert not models["rescaling-x2-new"]["default"]

    before = path.read_bytes()
    with pytest.raises(ValueError, match="rescaling-x2-win-cpu"):
        R.set_fields("rescaling-x2-win-cpu", path, metrics={"Kodak24": {"crop": None}})
    with pytest.raises(KeyError):
        R.set_fields("no-such-model", path, bytes_per_pixel=1)
    assert path.read_bytes() == before
