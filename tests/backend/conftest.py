"""Fixtures for the backend tests; the tiny models themselves live in ``tinymodels.py`` (a uniquely named
module, so test files can import it whichever ``conftest`` pytest loaded last)."""
import pytest
from tinymodels import diffusers_unet, tiny_model


@pytest.fixture
def model():
    return tiny_model()


@pytest.fixture(scope="session")
def diffusers_folder(tmp_path_factory):
    """A UNet2DModel folder (config.json + safetensors) with scheduler/scheduler_config.json; (folder, unet)."""
    from diffusers import DDPMScheduler
    folder = tmp_path_factory.mktemp("diffusers") / "tiny-unet"
    unet = diffusers_unet()
    unet.save_pretrained(folder, safe_serialization=True)
    DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear").save_pretrained(folder / "scheduler")
    return folder, unet
