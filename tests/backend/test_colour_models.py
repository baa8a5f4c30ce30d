"""Colour models end to end on tiny networks: the emoji recipes (resumable DDPM, the two judges), the judges'
registry, ``genviz eval`` on a colour model, SDEdit with a mask in colour, and the colour measuring set."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from colourtiny import emoji_judges, genviz_ddpm  # noqa: E402

TINY_UNET = dict(in_channels=3, base=8, mults=[1, 2], blocks=1, attn_lowest=False, dropout=0.0)


def test_emoji_ddpm_recipe_resumes_bit_identically_and_writes_metadata(tmp_path):
    from safetensors.torch import load_file

    from genviz.backend import load_checkpoint
    from genviz.backend.training.emoji_ddpm import train
    kw = dict(net_config=TINY_UNET, limit=32, batch_size=2, warmup=1, iters=3, log=lambda s: None)
    a = train(out=tmp_path / "a.safetensors", state=tmp_path / "a.pt", **kw)
    train(out=tmp_path / "b.safetensors", state=tmp_path / "b.pt", stop_after=1, **kw)
    assert torch.load(tmp_path / "b.pt", weights_only=True)["iteration"] == 1
    b = train(out=tmp_path / "b.safetensors", state=tmp_path / "b.pt", resume=True, **kw)
    wa, wb = load_file(a), load_file(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    m = load_checkpoint(str(b), device="cpu")
    assert m.data_shape == (3, 32, 32) and m.dataset == "emoji"
    tr = m.metadata["training"]
    assert tr["iterations"] == 3 and tr["recipe"] == "genviz train emoji-ddpm" and "emoji32.npz" in tr["data_source"]
    with pytest.raises(ValueError, match="saved with network"):
        train(out=tmp_path / "c.safetensors", state=tmp_path / "b.pt", resume=True,
              **{**kw, "net_config": {**TINY_UNET, "base": 16}})


@pytest.mark.parametrize("realism", [False, True])
def test_emoji_judge_recipes(tmp_path, realism):
    from genviz.backend import load_checkpoint
    from genviz.backend.training.emoji_classifier import train
    out = train(out=tmp_path / "j.safetensors", epochs=1, width=4, limit=64, batch_size=16, realism=realism,
                log=lambda s: None)
    clf = load_checkpoint(str(out), device="cpu")
    assert clf.classes == (["stroke", "real"] if realism else list(__import__("genviz.backend.emoji_data",
                                                                               fromlist=["x"]).CATEGORIES))
    assert clf.probs(torch.zeros(2, 3, 32, 32)).shape == (2, len(clf.classes))
    assert 0 <= clf.metadata["training"]["heldout_accuracy"] <= 1


def test_the_judge_follows_the_dataset(tmp_path):
    from genviz.backend import load_checkpoint
    from genviz.backend.judges import judges_for, real_images
    emoji = load_checkpoint(str(genviz_ddpm(tmp_path / "e.safetensors")), device="cpu")
    assert judges_for(emoji).classifier == "emoji-classifier" and judges_for(emoji).realism == "emoji-realism"
    other = load_checkpoint(str(genviz_ddpm(tmp_path / "o.safetensors", (1, 64, 64), dataset="faces")), device="cpu")
    with pytest.raises(ValueError, match="no bundled judge for data set 'faces' at 1x64x64"):
        judges_for(other)
    assert real_images("emoji", "test", 3).shape == (3, 3, 32, 32)
    assert real_images("mnist", "test", 2).shape == (2, 1, 28, 28)


def test_eval_judges_a_colour_model_by_its_category_classifier(tmp_path, monkeypatch, capsys):
    import genviz.backend.checkpoints as ck
    from genviz.cli import main
    emoji_judges(tmp_path)
    genviz_ddpm(tmp_path / "tiny-colour.safetensors")
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", tmp_path)
    out = tmp_path / "r.json"
    assert main(["eval", "tiny-colour", "--n", "6", "--steps", "2", "--device", "cpu", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["judge"] == "emoji-classifier" and len(rep["class_histogram"]) == 9 == len(rep["classes"])
    assert sum(rep["class_histogram"]) == 6 and rep["frechet_distance_real_vs_real"] >= 0
    genviz_ddpm(tmp_path / "faces.safetensors", (3, 64, 64), dataset="faces")
    capsys.readouterr()
    assert main(["eval", "faces", "--n", "2", "--steps", "2", "--device", "cpu"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no bundled judge for data set 'faces'" in err[0]


def test_masked_colour_sdedit_keeps_unmasked_pixels_exactly(tmp_path):
    from genviz.backend import load_checkpoint
    from genviz.backend.conditioning import sdedit
    model = load_checkpoint(str(genviz_ddpm(tmp_path / "e.safetensors")), device="cpu")
    y = torch.rand(3, 32, 32) * 2 - 1
    mask = torch.zeros(1, 32, 32)
    mask[:, 8:24, 8:24] = 1
    res = sdedit(model, y, t0=0.7, n=2, steps=3, mask=mask, seed=0, ilvr=4)
    keep = (mask == 0).expand(3, 32, 32)
    assert res.samples.shape == (2, 3, 32, 32)
    for s in res.samples:
        assert torch.equal(s[keep], y[keep])
        assert not torch.equal(s[~keep], y[~keep])


def test_colour_measuring_set_is_reproduced_by_its_script(tmp_path):
    from PIL import Image

    from genviz.backend.colour_drawings import KINDS, make_colour_drawing_set, random_colour_drawings
    paths = make_colour_drawing_set(tmp_path)
    bundled = Path(__file__).resolve().parents[2] / "resources" / "drawings_colour"
    assert len(paths) == 4 * len(KINDS) == 12
    for p in paths:
        a = np.asarray(Image.open(p))
        assert a.shape == (32, 32, 3) and np.array_equal(a, np.asarray(Image.open(bundled / p.name)))
    face = np.asarray(Image.open(tmp_path / "face_0.png")).astype(int)
    assert face[16, 16, 0] > 200 and face[16, 16, 1] > 150 and face[16, 16, 2] < 120  # yellow disk
    heart = np.asarray(Image.open(tmp_path / "heart_0.png")).astype(int)
    assert heart[16, 16, 0] > 180 and heart[16, 16, 1] < 90  # red
    r = random_colour_drawings(4, seed=1)
    assert r.shape == (4, 32, 32, 3) and np.array_equal(r, random_colour_drawings(4, seed=1))


def test_colour_tradeoff_figures_on_a_tiny_model(tmp_path):
    from genviz.backend import load_checkpoint
    from genviz.backend.sdedit_colour import colour_error, load_colour_drawings, measure, stroke_regions
    drawings, names = load_colour_drawings()
    assert drawings.shape == (12, 32, 32, 3) and names[0] == "face_0"
    regions = stroke_regions(drawings[names.index("heart_0")])
    assert len(regions) == 1 and regions[0][0][0] > 180  # one red region
    face = drawings[names.index("face_0")]
    assert len(stroke_regions(face)) == 1  # the yellow disk (the thin dark features are mixtures at 32 px)
    assert colour_error(face, face[None]) < 5  # the drawing itself keeps its colours (region mean vs seed colour)
    assert colour_error(face, np.full((1, 32, 32, 3), 255, np.uint8)) > 100  # white paper does not
    emoji_judges(tmp_path)
    clf = load_checkpoint(str(tmp_path / "emoji-classifier.safetensors"), device="cpu")
    real = load_checkpoint(str(tmp_path / "emoji-realism.safetensors"), device="cpu")
    model = load_checkpoint(str(genviz_ddpm(tmp_path / "e.safetensors")), device="cpu")
    res = measure(model, t0s=(0.0, 1.0), k=1, steps=1, classifier=clf, realism=real, log=lambda s: None)
    r0, r1 = res["rows"]
    assert r0["colour_error"] < 5 and r0["category_agreement"] == 1.0  # t0 = 0 returns the drawings
    assert r1["colour_error"] > r0["colour_error"]


def test_real_vs_real_floor_draws_training_images_from_every_category():
    """The Fréchet floor compares the held-out images with as many training images drawn at random (the training
    split is stored by category: its first 380 images are all Smileys, which gave a floor of 225.6)."""
    from genviz.backend.checkpoints import load_checkpoint
    from genviz.backend.metrics import reference_features
    f_ref, floor = reference_features(load_checkpoint("emoji-classifier", device="cpu"))
    assert f_ref.shape[0] == 380
    assert 5.0 < floor < 30.0  # 13.2 with the bundled classifier
