"""Inputs load_checkpoint must refuse: each raises CheckpointError whose one-line message names the file."""
import json
import os
import pickle

import pytest
import torch
from tinymodels import save_tiny, tiny_metadata, tiny_unet

from genviz.backend import CheckpointError, checkpoints, load_checkpoint, read_metadata, save_checkpoint


def refused(path, match=None):
    """load_checkpoint(path) raises CheckpointError naming path (and matching ``match``); returns the message."""
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, device="cpu")
    msg = str(info.value)
    assert str(path) in msg or os.path.basename(str(path)) in msg, msg
    assert "\n" not in msg
    if match:
        assert match in msg.replace(str(path), ""), msg      # in the reason, not in the (test-named) path
    return msg


def test_nonexistent_path(tmp_path):
    refused(tmp_path / "nope.safetensors", "no such file")
    refused(tmp_path / "nope" / "model.pt", "no such file")


def test_unknown_bundled_name(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    save_tiny(tmp_path / "tiny-one.safetensors")
    msg = refused("mnist-gan-xl", "not a bundled checkpoint")
    assert "tiny-one" in msg                      # lists what is bundled


def test_random_bytes_safetensors(tmp_path):
    p = tmp_path / "garbage.safetensors"
    p.write_bytes(os.urandom(4096))
    refused(p, "not a readable safetensors file")


def test_truncated_safetensors(tmp_path):
    p, _, _ = save_tiny(tmp_path / "cut.safetensors")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    refused(p)


def test_safetensors_without_genviz_metadata(tmp_path):
    from safetensors.torch import save_file
    p = tmp_path / "plain.safetensors"
    save_file(tiny_unet().state_dict(), str(p))
    refused(p, "no genviz metadata")
    with pytest.raises(CheckpointError, match="no genviz metadata"):
        read_metadata(p)


def test_metadata_not_json(tmp_path):
    from safetensors.torch import save_file
    p = tmp_path / "badjson.safetensors"
    save_file({"w": torch.zeros(2)}, str(p), metadata={"genviz": "{not json"})
    refused(p, "not valid JSON")


@pytest.mark.parametrize("change,match", [
    ({"family": "hopfield"}, "unknown or missing family 'hopfield'"),
    ({"family": None}, "unknown or missing family"),
    ({"network": None}, "lacks network.class"),
    ({"network": {"config": {}}}, "lacks network.class"),
    ({"network": {"class": "ResNet9000", "config": {}}}, "unknown network class 'ResNet9000'"),
    ({"network": {"class": "UNet", "config": {"bogus": 1}}}, "network config does not fit UNet"),
    ({"data": {"range": [-1, 1]}}, "lacks data.shape"),
    ({"format_version": 99}, "format version 99 is newer"),
    ({"format": "other-format"}, "unknown format 'other-format'"),
    ({"schedule": {"beta_schedule": "sigmoid"}}, "unknown beta schedule 'sigmoid'"),
    ({"schedule": {"prediction_type": "flow"}}, "unsupported prediction_type 'flow'"),
    # nulls or strings where numbers belong (were TypeErrors/ValueErrors escaping load_checkpoint)
    ({"data": {"shape": [1, None, 8]}}, "data.shape must be a list of positive integers"),
    ({"data": {"shape": 64}}, "data.shape must be a list of positive integers, got 64"),
    ({"data": {"shape": [1, -8, 8]}}, "data.shape must be a list of positive integers"),
    ({"format_version": "one"}, "format_version must be an integer, got 'one'"),
    ({"data": {"shape": [1, 8, 8], "range": None}}, ""),
    ({"schedule": {"num_train_timesteps": None}}, ""),
])
def test_bad_metadata(tmp_path, change, match):
    meta = {**tiny_metadata(), **change}
    meta = {k: v for k, v in meta.items() if v is not None}
    p = tmp_path / "badmeta.safetensors"
    from safetensors.torch import save_file
    save_file(tiny_unet().state_dict(), str(p), metadata={"genviz": json.dumps(meta)})   # as written, no defaults
    refused(p, match)


def test_weights_that_do_not_match_the_network(tmp_path):
    from genviz.backend.nets.unet import UNet
    bigger = UNet(in_channels=1, base=16, mults=[1, 2], blocks=1, attn_lowest=False)
    p = save_checkpoint(tmp_path / "mismatch.safetensors", bigger.state_dict(), tiny_metadata())
    refused(p, "weights do not match the network")
    sd = tiny_unet().state_dict()
    sd.pop("conv_out.bias")
    p = save_checkpoint(tmp_path / "missing.safetensors", sd, tiny_metadata())
    refused(p, "weights do not match the network")


def test_family_known_but_not_loadable(tmp_path):
    # a GAN family file naming a network that family does not load (a U-Net) is refused before anything is built,
    # and the message lists the networks the family loads (from the family registry)
    p = save_checkpoint(tmp_path / "gan.safetensors", tiny_unet().state_dict(), {**tiny_metadata(), "family": "gan"})
    refused(p, "unknown network class 'UNet' for a gan model (known: DCGANGenerator, ToyGAN)")


def test_pt_without_sidecar(tmp_path):
    p = tmp_path / "lonely.pt"
    torch.save(tiny_unet().state_dict(), p)
    refused(p, "needs a genviz metadata JSON beside it")


def test_pt_with_broken_sidecar(tmp_path):
    p = tmp_path / "model.pth"
    torch.save(tiny_unet().state_dict(), p)
    (tmp_path / "model.json").write_text("{")
    with pytest.raises(CheckpointError, match=r"model\.json: metadata is not valid JSON"):   # names the sidecar
        load_checkpoint(p, device="cpu")


def test_pt_that_is_not_a_state_dict(tmp_path):
    p = tmp_path / "tensor.ckpt"
    torch.save(torch.zeros(3), p)
    (tmp_path / "tensor.json").write_text(json.dumps(tiny_metadata()))
    refused(p, "expected a state dict")
    for i, junk in enumerate([b"hello world, not a checkpoint" * 10, bytes(range(256)) * 4, b"", os.urandom(1000)]):
        p2 = tmp_path / f"junk{i}.pt"          # (torch reports junk variously: KeyError, UnpicklingError, EOFError)
        p2.write_bytes(junk)
        (tmp_path / f"junk{i}.json").write_text(json.dumps(tiny_metadata()))
        refused(p2)


class _Payload:
    """Unpickling this runs code: it calls exec, which creates the file ``target``."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (exec, (f"open({self.target!r}, 'w').write('pwned')",))


def test_pickle_that_would_run_code_is_refused_and_not_run(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    p = tmp_path / "evil.pt"
    torch.save({"conv_out.weight": torch.zeros(1), "x": _Payload(sentinel)}, p)
    (tmp_path / "evil.json").write_text(json.dumps(tiny_metadata()))
    msg = refused(p, "refused")
    assert "arbitrary code" in msg
    assert not sentinel.exists()
    assert read_metadata(p)["family"] == "diffusion"     # reads the sidecar only, never the pickle
    assert not sentinel.exists()

    # control: the payload is live (full unpickling of the same kind of file does run it)
    control = tmp_path / "CONTROL"
    torch.save({"x": _Payload(control)}, tmp_path / "control.pt")
    torch.load(tmp_path / "control.pt", weights_only=False)
    assert control.read_text() == "pwned"


def test_plain_pickle_file_is_refused(tmp_path):
    sentinel = tmp_path / "SENTINEL2"
    p = tmp_path / "plain.pkl.pt"
    p.write_bytes(pickle.dumps({"w": _Payload(sentinel)}))
    (tmp_path / "plain.pkl.json").write_text(json.dumps(tiny_metadata()))
    refused(p)
    assert not sentinel.exists()


def test_diffusers_folder_with_only_bin_weights(tmp_path, diffusers_folder):
    folder = tmp_path / "binonly"
    diffusers_folder[1].save_pretrained(folder, safe_serialization=False)
    assert (folder / "diffusion_pytorch_model.bin").exists()
    refused(folder, "does not unpickle .bin weights")


def test_pipeline_folder_with_only_bin_weights(tmp_path, diffusers_folder):
    folder = tmp_path / "pipe"
    diffusers_folder[1].save_pretrained(folder / "unet", safe_serialization=False)
    refused(folder, "no diffusion_pytorch_model.safetensors")


def test_folder_with_a_config_of_another_class(tmp_path):
    folder = tmp_path / "vae"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL", "in_channels": 3}))
    refused(folder, "unsupported diffusers model 'AutoencoderKL'")


def test_folder_that_is_not_a_model(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    refused(folder, "not a diffusers model folder")
    bad = tmp_path / "badcfg"
    bad.mkdir()
    (bad / "config.json").write_text("{{")
    with pytest.raises(CheckpointError, match="config.json: not valid JSON"):
        load_checkpoint(bad, device="cpu")


def test_unsupported_extension(tmp_path):
    p = tmp_path / "weights.txt"
    p.write_text("1 2 3")
    refused(p, "unsupported file type '.txt'")
    with pytest.raises(CheckpointError, match="unsupported file type"):
        read_metadata(p)


def test_list_checkpoints_skips_malformed_metadata(tmp_path, monkeypatch):
    """A bundled file whose data.shape is not a list used to crash list_checkpoints (tuple(64))."""
    from safetensors.torch import save_file
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    save_tiny(tmp_path / "good.safetensors")
    for name, change in [("flat", {"data": {"shape": 64}}), ("ver", {"format_version": None})]:
        save_file({"w": torch.zeros(1)}, str(tmp_path / f"{name}.safetensors"),
                  metadata={"genviz": json.dumps({**tiny_metadata(), **change})})
    infos = checkpoints.list_checkpoints()
    assert [i.name for i in infos if not i.error] == ["good"]  # the broken ones are listed with their reason
    assert {i.name: i.family for i in infos if i.error} == {"flat": "broken", "ver": "broken"}
    refused(tmp_path / "ver.safetensors", "format_version must be an integer, got None")
