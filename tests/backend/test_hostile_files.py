"""Files that would hang, blow up memory or hide other checkpoints are refused in one line, before any read."""
import json
import os
import signal
import zipfile

import pytest
import torch
from tinymodels import save_tiny

from genviz.backend import CheckpointError, checkpoints, list_checkpoints, load_checkpoint, read_metadata


@pytest.fixture
def alarm():
    """Fail instead of hanging: SIGALRM after 5 s."""
    def boom(*_):
        raise TimeoutError("blocked")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg
    return msg


def test_fifo_checkpoint_is_refused_without_blocking(tmp_path, alarm):
    p = tmp_path / "x.safetensors"
    os.mkfifo(p)
    with pytest.raises(CheckpointError) as e:
        read_metadata(p)
    assert "FIFO" in one_line(e)
    with pytest.raises(CheckpointError):
        load_checkpoint(p, device="cpu")


def test_diffusers_config_that_is_a_fifo_or_a_device(tmp_path, alarm):
    d = tmp_path / "unet"
    d.mkdir()
    os.mkfifo(d / "config.json")
    with pytest.raises(CheckpointError) as e:
        read_metadata(d)
    assert "FIFO" in one_line(e)
    d2 = tmp_path / "dev"
    d2.mkdir()
    (d2 / "config.json").symlink_to("/dev/zero")
    with pytest.raises(CheckpointError) as e:
        read_metadata(d2)
    assert "device" in one_line(e)


def test_symlink_loop_is_refused(tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(a, device="cpu")
    one_line(e)


def test_oversized_json_config_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "MAX_JSON_BYTES", 1000)
    d = tmp_path / "big"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel", "pad": "x" * 5000}))
    with pytest.raises(CheckpointError) as e:
        read_metadata(d)
    assert "too large" in one_line(e)


def test_zip_bomb_pt_is_refused_before_unpacking(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "MAX_UNZIPPED_BYTES", 2**20)
    p = tmp_path / "bomb.pt"
    torch.save({"w": torch.zeros(4)}, p)
    with zipfile.ZipFile(p, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb/data/huge", b"\0" * (4 * 2**20))  # 4 MB of zeros: a few KB compressed
    (tmp_path / "bomb.json").write_text(json.dumps({"name": "b", "family": "diffusion",
                                                    "network": {"class": "UNet"}, "data": {"shape": [1, 8, 8]}}))
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(p, device="cpu")
    assert "unpacks to" in one_line(e)


def test_a_broken_folder_is_listed_and_hides_nothing(tmp_path, monkeypatch):
    """A folder whose config.json holds a JSON list made `genviz list` fail and the GUI unable to load anything
    (an AttributeError escaped)."""
    save_tiny(tmp_path / "good.safetensors")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("[1, 2]")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    infos = {i.name: i for i in list_checkpoints()}
    assert set(infos) == {"good", "bad", "junk"}
    assert infos["good"].error == "" and infos["good"].family == "diffusion"
    assert infos["bad"].family == "broken" and "JSON object" in infos["bad"].error
    assert infos["junk"].family == "broken" and infos["junk"].error
    from genviz.cli import main
    assert main(["list"]) == 0
