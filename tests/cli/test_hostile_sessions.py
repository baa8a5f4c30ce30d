"""Hostile session and preset files and API arguments (issue 20), with the fixtures of ``test_hostile``: every
malformed session is refused by ``genviz gui --session F --screenshot out.png`` before any window opens, in one
``genviz: error:`` line (exit 1), without a hang (SIGALRM guard); bad presets are refused and never hide the good
ones; the API refuses devices and starting states it cannot use."""
import json
import math
import os

import numpy as np
import pytest
import test_hostile as _h
import torch

from genviz.cli import main

assert_refused = _h.assert_refused
crafted, hostile, hang_guard = _h.crafted, _h.hostile, _h.hang_guard  # the shared fixtures

# ---- sessions and presets: one schema (genviz.sessions), checked before any window opens --------------------

GOOD_SESSION = {"format": "genviz-session", "version": 1, "checkpoint": "tiny-ddpm", "panel": "chain",
                "panels": {"chain": {"settings": {"sampler": "ddim", "steps": 5, "seed": 0, "n": 4},
                                     "branches": [{"sampler": "ddim", "seed": 0, "start": 0, "parent": None,
                                                   "length": 5}]}}}


def _session(change):
    s = json.loads(json.dumps(GOOD_SESSION))
    for path, value in change.items():
        keys = path.split(".")
        d = s
        for k in keys[:-1]:
            d = d[int(k)] if isinstance(d, list) else d[k]
        d[keys[-1]] = value
    return s


SESSIONS = [  # (name, change of GOOD_SESSION or raw text, words of the refusal)
    ("state_string", {"panels.chain": "chain"}, "panels.chain must be an object"),
    ("state_list", {"panels.chain": [1, 2]}, "panels.chain must be an object"),
    ("settings_list", {"panels.chain.settings": [1]}, "settings must be an object"),
    ("sampler_unknown", {"panels.chain.settings.sampler": "bogus"}, "not a known sampler"),
    ("sampler_wrong_family", {"panels.chain.settings.sampler": "flow"}, "does not run on a diffusion model"),
    ("branch_sampler_bad", {"panels.chain.branches.0.sampler": "decode"}, "does not run on a diffusion model"),
    ("panel_unknown", {"panels.bogus": {}}, "unknown panel 'bogus'"),
    ("shown_panel_unknown", {"panel": "bogus"}, "unknown panel 'bogus'"),
    ("params_list", {"panels.chain.settings.params": [1]}, "params must be an object"),
    ("param_dict", {"panels.chain.settings.params": {"eta": {"a": 1}}}, "params.eta must be a number"),
    ("param_inf", {"panels.chain.settings.params": {"eta": 1e400}}, "finite"),
    ("steps_negative", {"panels.chain.settings.steps": -5}, "steps must be in 1..100000"),
    ("steps_float", {"panels.chain.settings.steps": 5.5}, "steps must be a whole number"),
    ("steps_1e9", {"panels.chain.settings.steps": 10**9}, "steps must be in 1..100000"),
    ("steps_nan", {"panels.chain.settings.steps": math.nan}, "finite"),
    ("seed_2_80", {"panels.chain.settings.seed": 2**80}, "seed must be in 0..2147483647"),
    ("seed_negative", {"panels.chain.settings.seed": -1}, "seed must be in"),
    ("batch_1e6", {"panels.chain.settings.n": 10**6}, "n must be in 1..64"),
    ("batch_5000", {"panels.chain.settings.n": 5000}, "n must be in 1..64"),
    ("batch_zero", {"panels.chain.settings.n": 0}, "n must be in 1..64"),
    ("branches_dict", {"panels.chain.branches": {"a": 1}}, "branches must be a list"),
    ("branch_parent_missing", {"panels.chain.branches": [{}, {"parent": 5, "start": 1}]}, "parent (an earlier branch"),
    ("branch_parent_self", {"panels.chain.branches": [{}, {"parent": 2}]}, "parent (an earlier branch"),
    ("first_branch_parent", {"panels.chain.branches.0.parent": 3}, "has no parent"),
    ("branch_start_negative", {"panels.chain.branches.0.start": -1}, "start must be in"),
    ("branch_length_string", {"panels.chain.branches.0.length": "5"}, "length must be a whole number"),
    ("active_missing", {"panels.chain.active": 7}, "names no branch"),
    ("speed_99", {"panels.chain.speed": 99}, "speed must be in 0..2"),
    ("version_newer", {"version": 99}, "newer than this genviz"),
    ("format_other", {"format": "photoshop"}, "not a genviz session"),
    ("panels_list", {"panels": []}, "panels must be an object"),
    ("checkpoint_missing", {"checkpoint": "no-such-model"}, "not a bundled checkpoint"),
    ("checkpoint_not_text", {"checkpoint": 5}, "checkpoint must be a string"),
    ("canvas_string", {"panels.canvas": "x"}, "panels.canvas must be an object"),
    ("top_list", "[1, 2, 3]", "not a genviz session"),
    ("not_json", "{not json", "not a readable session file"),
    ("bad_utf8", b"\xff\xfe{}", "cannot read the session file"),
    ("deep", "[" * 100_000 + "]" * 100_000, "nested deeper"),
    ("deep_but_parsable", json.dumps({"format": "genviz-session", "checkpoint": "x", "panels": {"chain": {
        "settings": {"params": {"a": [[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}}}}}), "nested deeper than 16"),
    ("huge_file", None, "limit 16 MB"),
    ("fifo", "FIFO", "FIFO"),
]


@pytest.mark.parametrize("name, change, words", SESSIONS, ids=[s[0] for s in SESSIONS])
def test_bad_session_refused_before_any_window(hostile, capsys, hang_guard, name, change, words):
    p = os.path.join(hostile["tmp"], f"{name}.genviz")
    if change == "FIFO":
        os.mkfifo(p)
    elif change is None:
        with open(p, "wb") as f:
            f.truncate(200 * 2**20)  # a sparse 200 MB file: refused by its size, never read
    elif isinstance(change, bytes):
        open(p, "wb").write(change)
    else:
        open(p, "w").write(change if isinstance(change, str) else json.dumps(_session(change)))
    rc = main(["gui", "--session", p, "--screenshot", os.path.join(hostile["tmp"], "shot.png")])
    assert_refused(capsys, rc, 1, words, hostile["marker"])
    assert not os.path.exists(os.path.join(hostile["tmp"], "shot.png"))


def test_good_session_passes_the_schema(hostile, tmp_path, monkeypatch):
    """Control for the table above, and the memory estimate of the chain's history."""
    from genviz.sessions import check_session, read_session_file
    p = tmp_path / "good.genviz"
    p.write_text(json.dumps(GOOD_SESSION))
    assert read_session_file(p)["checkpoint"] == "tiny-ddpm"
    monkeypatch.setenv("GENVIZ_MEMORY_LIMIT", str(2**16))  # the history: 2 x 4 x 6 records of 784 floats, 150 KB
    with pytest.raises(ValueError, match="4 samples x 5 steps: needs about"):
        check_session(GOOD_SESSION, "good.genviz")


PRESETS = [
    ({"state": "x"}, "state must be an object"),
    ({"state": {"settings": {"steps": -1}}}, "steps must be in"),
    ({"panel": "bogus"}, "unknown panel"),
    ({"name": "a/b"}, "one line without path separators"),
    ({"run": "yes"}, "run must be true or false"),
    ({"order": math.inf}, "finite"),
]


@pytest.mark.parametrize("change, words", PRESETS)
def test_bad_preset_refused_and_skipped(tmp_path, change, words):
    from genviz.presets import PresetError, list_presets, load_preset_file
    good = {"name": "p", "title": "P", "description": "d", "checkpoint": "tiny-ddpm", "panel": "chain",
            "state": {"settings": {"sampler": "ddim", "steps": 3}}}
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "bad.json").write_text(json.dumps({**good, "name": "q", **change}))
    with pytest.raises(PresetError) as e:
        load_preset_file(tmp_path / "bad.json")
    assert words in str(e.value) and "\n" not in str(e.value)
    assert [p["name"] for p in list_presets(tmp_path)] == ["p"]  # a bad preset never hides the good ones


@pytest.mark.parametrize("device", ["meta", "cpu:1", "xpu", "mps:3"])
def test_api_refuses_devices_it_cannot_run_on(device):
    from genviz.backend import resolve_device
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device(device)


@pytest.mark.parametrize("x_init, words", [
    (torch.full((2, 1, 28, 28), math.nan), "finite"), (torch.full((2, 1, 28, 28), 1e30), "|x| <= 1e6"),
    (np.zeros((2, 1, 28, 28), np.float32), "torch.Tensor"), (torch.zeros((2, 1, 28, 28), dtype=torch.int64), "floating"),
])
def test_api_refuses_a_bad_x_init(bundled, x_init, words):
    """DDIM from a NaN or 1e30 x_init returned NaN silently; a numpy x_init raised AttributeError."""
    from genviz.backend import load_checkpoint, sample
    model = load_checkpoint("tiny-ddpm", device="cpu")
    with pytest.raises(ValueError, match=words.replace("|", r"\|")):
        sample(model, "ddim", steps=2, x_init=x_init)
