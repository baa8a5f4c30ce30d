"""Hostile and careless inputs, one table per class (issue 20): crafted checkpoints and diffusers folders, files
that are not files, oversized images, malformed sessions and presets, absurd numbers, memory-hungry requests.

Every case runs ``genviz.cli.main`` in process and asserts: the exit code, stderr is exactly one ``genviz: error:``
line, no traceback, the reason's key words, and that no marker file appeared (pickle payloads would write one).
A SIGALRM guard turns a hang into a failure (a hang guard, not a timing claim). A few cases run as real
subprocesses (``timeout=``) to show the same from the outside.
"""
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from genviz.cli import main

MARKER = "PWNED-MARKER"


class _Payload:
    """Unpickling this would run code that creates the marker file."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (exec, (f"open({self.target!r}, 'w').write('x')",))


@pytest.fixture
def hang_guard():
    def boom(*_):
        raise TimeoutError("hung: no answer within 20 s")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _png_header(path, width, height):
    """A PNG whose header claims width x height (8-bit grey) with a token IDAT: PIL reads the size lazily."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def crafted(ckpt_dir, tmp_path_factory):
    """Craft every hostile file in a temp folder (once per module); returns a dict name -> path (str)."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    src = ckpt_dir / "tiny-ddpm.safetensors"
    from genviz.backend import read_metadata
    meta, sd = read_metadata(src), load_file(str(src))
    marker = tmp_path / MARKER
    files = {"tmp": str(tmp_path), "marker": str(marker)}

    def ckpt(name, change=None, tensors=None, raw_meta=None):
        m = json.loads(json.dumps(meta))
        for path, value in (change or {}).items():
            keys = path.split(".")
            d = m
            for k in keys[:-1]:
                d = d.setdefault(k, {})
            d[keys[-1]] = value
        p = tmp_path / f"{name}.safetensors"
        save_file(tensors or sd, str(p), metadata={"genviz": raw_meta if raw_meta is not None else json.dumps(m)})
        files[name] = str(p)

    ckpt("range_reversed", {"data.range": [1.0, -1.0]})
    ckpt("range_equal", {"data.range": [0.5, 0.5]})
    ckpt("range_nan", raw_meta=json.dumps({**meta, "data": {**meta["data"], "range": [float("nan"), 1.0]}}))
    ckpt("range_string", {"data.range": ["low", "high"]})
    ckpt("shape_1d_image", {"data.shape": [784]})
    ckpt("shape_4d", {"data.shape": [1, 1, 28, 28]})
    ckpt("shape_bool", {"data.shape": [True, 28, 28]})
    ckpt("shape_empty", {"data.shape": []})
    ckpt("shape_huge", {"data.shape": [1, 30000, 30000]})
    ckpt("T_float", {"schedule.num_train_timesteps": 1000.5})
    ckpt("T_string", {"schedule.num_train_timesteps": "1000"})
    ckpt("T_huge", {"schedule.num_train_timesteps": 4_000_000_000})
    ckpt("steps_negative", {"sampler.steps": -5})
    ckpt("steps_huge", {"sampler.steps": 10**12})
    ckpt("steps_string", {"sampler.steps": "50"})
    ckpt("sampler_unknown", {"sampler.name": "bogus"})
    ckpt("sampler_wrong_family", {"sampler.name": "flow"})
    ckpt("name_newline", {"name": "tiny\nddpm"})
    ckpt("name_path", {"name": "../../etc/passwd"})
    ckpt("width_huge", {"network.config.base": 6000})
    ckpt("width_absurd", {"network.config.base": 10**9})
    ckpt("width_zero", {"network.config.base": 0})
    ckpt("config_nan", raw_meta=json.dumps({**meta, "network": {**meta["network"], "config": {
        **meta["network"]["config"], "dropout": float("inf")}}}))
    ckpt("weights_int8", tensors={k: v.to(torch.int8) for k, v in sd.items()})
    ckpt("weights_int64", tensors={k: v.to(torch.int64) for k, v in sd.items()})
    ckpt("extra_key", {"flavour": "vanilla"})

    def diffusers(name, change, scheduler=None):
        d = tmp_path / name
        d.mkdir()
        cfg = {"_class_name": "UNet2DModel", "sample_size": 8, "in_channels": 1, "out_channels": 1,
               "block_out_channels": [8, 16], "layers_per_block": 1, "norm_num_groups": 4, **change}
        (d / "config.json").write_text(json.dumps(cfg))
        save_file({"w": torch.zeros(1)}, str(d / "diffusion_pytorch_model.safetensors"))
        if scheduler is not None:
            (d / "scheduler_config.json").write_text(json.dumps(scheduler))
        files[name] = str(d)

    diffusers("diff_size_float", {"sample_size": 8.5})
    diffusers("diff_size_zero", {"sample_size": 0})
    diffusers("diff_size_huge", {"sample_size": 100_000})
    diffusers("diff_clip_string", {}, scheduler={"clip_sample": "false"})
    diffusers("diff_channels_huge", {"block_out_channels": [100_000]})
    os.mkfifo(tmp_path / "fifo.safetensors")
    files["fifo"] = str(tmp_path / "fifo.safetensors")
    (tmp_path / "loop_a.safetensors").symlink_to(tmp_path / "loop_b.safetensors")
    (tmp_path / "loop_b.safetensors").symlink_to(tmp_path / "loop_a.safetensors")
    files["loop"] = str(tmp_path / "loop_a.safetensors")
    evil = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(1), "x": _Payload(marker)}, evil)
    (tmp_path / "evil.json").write_text(json.dumps(meta))
    files["evil"] = str(evil)
    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps({"w": _Payload(marker)}))
    (tmp_path / "plain.json").write_text(json.dumps(meta))
    files["plain_pickle"] = str(plain)
    bomb = tmp_path / "bomb.pt"
    torch.save({"w": torch.zeros(4)}, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb/data/huge", b"\0" * (4 * 2**20))
    (tmp_path / "bomb.json").write_text(json.dumps(meta))
    files["bomb"] = str(bomb)

    Image.new("L", (1, 110_000)).save(tmp_path / "thin.png")  # ~200 bytes; a 110000^2 square once padded
    files["thin_png"] = str(tmp_path / "thin.png")
    files["huge_png"] = str(_png_header(tmp_path / "huge.png", 20000, 20000))
    (tmp_path / "garbage.png").write_bytes(os.urandom(3000))
    files["garbage_png"] = str(tmp_path / "garbage.png")
    Image.new("L", (28, 28)).save(tmp_path / "ok.png")
    files["ok_png"] = str(tmp_path / "ok.png")
    return files


@pytest.fixture
def hostile(crafted, bundled, tmp_path):
    """The crafted files, with the bundled tiny-ddpm, and ``tmp`` a fresh output folder for this test."""
    return {**crafted, "tmp": str(tmp_path)}


OUT = ["--out", "{tmp}/out.png"]
# (args, exit code, words expected in the one stderr line)
CASES = [
    # checkpoint metadata: one schema (genviz.backend.validate), applied before anything is built
    (["info", "{range_reversed}"], 1, "lo < hi"),
    (["info", "{range_equal}"], 1, "lo < hi"),
    (["info", "{range_nan}"], 1, "finite"),
    (["info", "{range_string}"], 1, "data.range"),
    (["info", "{shape_1d_image}"], 1, "does not fit data.kind"),
    (["info", "{shape_4d}"], 1, "dimensions"),
    (["info", "{shape_bool}"], 1, "positive integers"),
    (["info", "{shape_empty}"], 1, "dimensions"),
    (["info", "{shape_huge}"], 1, "too large"),
    (["info", "{T_float}"], 1, "num_train_timesteps must be a whole number"),
    (["info", "{T_string}"], 1, "num_train_timesteps must be a whole number"),
    (["info", "{T_huge}"], 1, "num_train_timesteps must be in 1..100000"),
    (["info", "{steps_negative}"], 1, "sampler.steps must be in"),
    (["info", "{steps_huge}"], 1, "sampler.steps must be in"),
    (["info", "{steps_string}"], 1, "sampler.steps must be a whole number"),
    (["info", "{sampler_unknown}"], 1, "not a known sampler"),
    (["info", "{sampler_wrong_family}"], 1, "does not run on a diffusion model"),
    (["info", "{name_newline}"], 1, "one line without path separators"),
    (["info", "{name_path}"], 1, "one line without path separators"),
    (["info", "{width_huge}"], 1, "needs about"),
    (["info", "{width_absurd}"], 1, "out of range"),
    (["info", "{width_zero}"], 1, "network config does not fit UNet"),
    (["info", "{config_nan}"], 1, "finite"),
    (["info", "{weights_int8}"], 1, "wrong dtype"),
    (["info", "{weights_int64}"], 1, "wrong dtype"),
    (["sample", "{weights_int8}", *OUT], 1, "wrong dtype"),
    (["sample", "{shape_huge}", *OUT], 1, "too large"),
    (["sample", "{T_huge}", *OUT], 1, "num_train_timesteps"),
    (["sample", "{width_huge}", *OUT], 1, "needs about"),
    # diffusers configs
    (["info", "{diff_size_float}"], 1, "sample_size"),
    (["info", "{diff_size_zero}"], 1, "sample_size"),
    (["info", "{diff_size_huge}"], 1, "sample_size"),
    (["info", "{diff_clip_string}"], 1, "clip_sample must be true or false"),
    (["info", "{diff_channels_huge}"], 1, "block_out_channels"),
    # files that are not regular files, pickles, zip bombs
    (["info", "{fifo}"], 1, "FIFO"),
    (["sample", "{fifo}", *OUT], 1, "FIFO"),
    (["info", "{loop}"], 1, "cannot open"),
    (["sample", "{evil}", *OUT], 1, "arbitrary code"),
    (["sample", "{plain_pickle}", *OUT], 1, "plain.pt"),
    (["sample", "{bomb}", *OUT], 1, "unpacks to"),
    # images: checked for size before decoding or padding
    (["sdedit", "tiny-ddpm", "--strokes", "{thin_png}", *OUT], 1, "too large"),
    (["sdedit", "tiny-ddpm", "--strokes", "{huge_png}", *OUT], 1, "too large"),
    (["sdedit", "tiny-ddpm", "--strokes", "{garbage_png}", *OUT], 1, "not a readable image"),
    (["sdedit", "tiny-ddpm", "--strokes", "{ok_png}", "--mask", "{thin_png}", *OUT], 1, "--mask"),
    (["sdedit", "tiny-ddpm", "--strokes", "{fifo}", *OUT], 1, "FIFO"),
    (["interpolate", "tiny-ddpm", "--image-a", "{huge_png}", "--seed-b", "1", "--steps", "2", *OUT], 1, "too large"),
    # absurd numbers: refused by the parser (exit 2) naming the range
    (["sample", "tiny-ddpm", "--n", "100000", *OUT], 2, "1..4096"),
    (["sample", "tiny-ddpm", "--steps", "1000000000", *OUT], 2, "1..100000"),
    (["sample", "tiny-ddpm", "--seed", str(2**80), *OUT], 2, "--seed"),
    (["sdedit", "tiny-ddpm", "--strokes", "{ok_png}", "--eta", "nan", *OUT], 2, "finite"),
    (["sdedit", "tiny-ddpm", "--strokes", "{ok_png}", "--guidance", "1e30", *OUT], 2, "[0, 1000]"),
    (["sdedit", "tiny-ddpm", "--strokes", "{ok_png}", "--t0", "inf", *OUT], 2, "--t0"),
    (["sdedit", "tiny-ddpm", "--strokes", "{ok_png}", "--n", "100000", *OUT], 2, "--n"),
    (["interpolate", "tiny-ddpm", "--frames", "1000000", "--seed-a", "1", "--seed-b", "2", *OUT], 2, "1..512"),
    (["interpolate", "tiny-ddpm", "--grid", "--frames", "100000", *OUT], 2, "--frames"),
    (["bench", "--json", "/proc/x.json"], 1, "--json"),
]


def _fill(args, files):
    return [a.format(**files) for a in args]


def assert_refused(capsys, rc, want_rc, words, marker):
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == want_rc, err
    assert len(lines) == 1 and lines[0].startswith("genviz: error:"), err
    assert "Traceback" not in err and words in lines[0], err
    assert not os.path.exists(marker)


@pytest.mark.parametrize("args, want_rc, words", CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_refused_in_one_line(hostile, capsys, monkeypatch, hang_guard, args, want_rc, words):
    from genviz.backend import checkpoints
    monkeypatch.setattr(checkpoints, "MAX_UNZIPPED_BYTES", 2**20)
    monkeypatch.setenv("GENVIZ_MEMORY_LIMIT", str(4 * 2**30))  # the same verdict on any machine
    try:
        rc = main(_fill(args, hostile))
    except SystemExit as e:  # the argument parser's refusals
        rc = e.code
    assert_refused(capsys, rc, want_rc, words, hostile["marker"])
    assert not any(f.startswith(".out.partial") or f == "out.png" for f in os.listdir(hostile["tmp"]))


def test_usable_and_extra_keys(hostile, capsys):
    """info runs the same checks as load_checkpoint: "usable", naming the keys it ignores."""
    assert main(["info", hostile["extra_key"]]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["flavour"] == "vanilla"
    assert cap.err.strip() == "usable (diffusion model; keys genviz ignores: flavour)"


def test_memory_estimate_refuses_a_batch(bundled, tmp_path, capsys, monkeypatch):
    """n is bounded by the parser and by the memory estimate of network + batch (GENVIZ_MEMORY_LIMIT here)."""
    monkeypatch.setenv("GENVIZ_MEMORY_LIMIT", str(50 * 2**20))
    rc = main(["sample", "tiny-ddpm", "--n", "4000", "--steps", "2", "--out", str(tmp_path / "x.png")])
    assert_refused(capsys, rc, 1, "--n 4000: needs about", str(tmp_path / MARKER))
    rc = main(["sample", "tiny-ddpm", "--n", "2", "--steps", "2", "--out", str(tmp_path / "x.png")])
    assert rc == 0 and (tmp_path / "x.png").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]  # written via a temp file, renamed: nothing else


def test_interrupt_keeps_nothing_half_written(bundled, tmp_path, capsys, monkeypatch):
    """Ctrl-C while the output is being written: one line, exit 130, no partial file."""
    from genviz.backend import imaging

    def interrupted(path, array):
        open(path, "wb").write(b"half")
        raise KeyboardInterrupt
    monkeypatch.setattr(imaging, "save_png", interrupted)
    rc = main(["sample", "tiny-ddpm", "--n", "1", "--steps", "1", "--out", str(tmp_path / "x.png")])
    assert rc == 130 and capsys.readouterr().err == "genviz: error: interrupted\n"
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_only_on_a_terminal():
    import io

    from genviz.cli_io import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True
    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress(10, "ddim", stream=stream)
        for i in range(11):
            bar.update(i)
        bar.close()
    assert "ddim [" in tty.getvalue() and "10/10" in tty.getvalue() and pipe.getvalue() == ""


def test_eval_on_a_diverging_sampler_fails(capsys, tmp_path, monkeypatch):
    """eval on a chain that blows up exits non-zero in one line (was exit 0 with NaN figures); --n 1 (no covariance
    for a Fréchet distance: numpy RuntimeWarnings before) is refused by the parser."""
    import genviz.backend
    monkeypatch.setattr(genviz.backend, "sample", lambda model, sampler, n, **kw: torch.full((n, 1, 28, 28), math.nan))
    rc = main(["eval", "mnist-ebm", "--n", "3", "--steps", "2"])
    assert_refused(capsys, rc, 1, "diverged: 3 of 3 samples", str(tmp_path / MARKER))
    with pytest.raises(SystemExit) as e:
        main(["eval", "mnist-ebm", "--n", "1"])
    assert_refused(capsys, e.value.code, 2, "2..20000", str(tmp_path / MARKER))
    from genviz.backend.metrics import frechet_distance
    with pytest.raises(ValueError, match="at least 2 samples"):
        frechet_distance(np.zeros((1, 4)), np.zeros((5, 4)))


@pytest.mark.parametrize("args, words", [
    (["info", "{fifo}"], "FIFO"),
    (["gui", "--session", "{tmp}/deep.genviz", "--screenshot", "{tmp}/s.png"], "nested deeper"),
    (["sample", "{evil}", "--out", "{tmp}/x.png"], "arbitrary code"),
])
def test_from_the_outside(hostile, bundled, args, words):
    """The same refusals through a real process (timeout = hang guard): one stderr line, no traceback."""
    with open(os.path.join(hostile["tmp"], "deep.genviz"), "w") as f:  # 100,000 levels: was SIGABRT
        f.write("[" * 100_000 + "]" * 100_000)
    env = dict(os.environ, GENVIZ_CHECKPOINTS=str(bundled), QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "genviz", *_fill(args, hostile)], capture_output=True, text=True,
                       env=env, timeout=60)
    lines = r.stderr.strip().splitlines()
    assert r.returncode != 0 and len(lines) == 1 and lines[0].startswith("genviz: error:"), r.stderr
    assert words in lines[0] and "Traceback" not in r.stderr
    assert not os.path.exists(hostile["marker"])


def test_nothing_is_refused_that_is_fine(bundled, tmp_path):
    """Control: the bundled-style tiny checkpoint passes every check, and NaN-free numbers at the range ends pass."""
    from genviz.backend.validate import Float, Int, check
    check(0, Int(0, 1), "x")
    check(1.0, Float(0.0, 1.0), "x")
    with pytest.raises(ValueError, match="finite"):
        check(math.nan, Float(0.0, 1.0), "x")
    with pytest.raises(ValueError, match="whole number"):
        check(True, Int(0, 1), "x")
    assert main(["sample", "tiny-ddpm", "--n", "1", "--steps", "1", "--out", str(tmp_path / "y.npz")]) == 0
    assert np.load(tmp_path / "y.npz")["samples"].shape == (1, 1, 28, 28)
