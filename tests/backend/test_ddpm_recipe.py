"""The mnist-ddpm recipe's two stages (cosine cycle, then a warm restart from its EMA weights), run tiny."""
import pytest
import torch

from genviz.backend import load_checkpoint
from genviz.backend.checkpoints import read_metadata
from genviz.backend.training import mnist_ddpm


@pytest.fixture(autouse=True)
def keep_threads():
    n = torch.get_num_threads()  # the recipe's main() sets the thread count for the process
    yield
    torch.set_num_threads(n)


def test_recipe_runs_both_stages_and_records_them(tmp_path):
    out = tmp_path / "ddpm.safetensors"
    mnist_ddpm.main(["--out", str(out), "--iters", "3", "--batch-size", "4", "--warmup", "1", "--restart-iters", "2",
                     "--restart-lr", "5e-4", "--save-every", "100", "--threads", "1"])
    tr = read_metadata(out)["training"]
    assert tr["recipe"] == "genviz train mnist-ddpm"
    assert (tr["iterations"], tr["lr"], tr["iterations_total"]) == (2, 5e-4, 5)
    assert [(s["iterations"], s["lr"]) for s in tr["stages"]] == [(3, mnist_ddpm.DEFAULTS["lr"])]
    model = load_checkpoint(str(out), device="cpu")
    assert model.family == "diffusion" and tuple(model.data_shape) == (1, 28, 28)


def test_restart_can_be_skipped(tmp_path):
    out = tmp_path / "ddpm.safetensors"
    mnist_ddpm.main(["--out", str(out), "--iters", "2", "--batch-size", "4", "--warmup", "1", "--restart-iters", "0",
                     "--save-every", "100", "--threads", "1"])
    tr = read_metadata(out)["training"]
    assert tr["iterations"] == 2 and "stages" not in tr
