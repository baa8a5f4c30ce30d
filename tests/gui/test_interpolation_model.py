"""The interpolation panel's Qt-free state (genviz.gui.panels.interpolation.model): settings, endpoints, the walk's
life cycle, the texts and images shown, sessions and validation. No widget is made here."""
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from genviz.gui.panels.interpolation.model import InterpolationState
from genviz.gui.panels.interpolation.settings import FRAMES_RANGE, METHODS, PLACEHOLDER, WalkSettings, endpoint_text


def _fake(family="vae", latent=True, shape=(1, 28, 28), steps=None):
    """A stand-in for a backend model: only the attributes the state and ``genviz.panels`` read."""
    return SimpleNamespace(name=f"fake-{family}", family=family, is_image=len(shape) == 3, data_shape=shape,
                           latent_shape=(6,), traits=SimpleNamespace(latent=latent),
                           default_sampler={"name": "ddim", "steps": steps} if steps else {"name": "decode"})


def _vae_state():
    st = InterpolationState()
    st.set_model(_fake())
    return st


def _walk_objects(n=4, side=3, k=2):
    from genviz.backend.walk import WalkProgress, WalkResult
    rng = np.random.default_rng(0)
    strip = rng.random((n, 1, 28, 28), dtype=np.float32)
    grid = rng.random((side * side, 1, 28, 28), dtype=np.float32)
    progress = WalkProgress(strip[:k], grid[:0], n, side * side)
    result = WalkResult(strip=strip, grid=grid, side=side, norms=np.linspace(2.0, 2.5, n), profiles={}, typical=2.45,
                        method="slerp", description="VAE latent (decoder mean), z ∈ R^6", space=None, corners=())
    return progress, result


def test_methods_match_the_backend_and_module_imports_without_qt_or_torch():
    from genviz.backend.interpolation import METHODS as BACKEND_METHODS
    assert METHODS == BACKEND_METHODS
    code = ("import sys; import genviz.gui.panels.interpolation.model; "
            "assert 'PySide6' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_models_supported_or_not():
    st = InterpolationState()
    assert not st.supported and "Load a VAE" in st.notice_text()
    st.set_model(_fake())
    assert st.supported and not st.is_diffusion and st.reason is None
    assert st.space_text() == "VAE latent z ∈ R^6; real images enter by the encoder (μ)."
    st.set_model(_fake("gan"))
    assert "no encoder" in st.space_text()
    st.set_model(_fake("diffusion", steps=20))
    assert st.is_diffusion and st.settings.ddim_steps == 20 and "DDIM inversion" in st.space_text()
    assert st.walk_request()["steps"] == 20
    st.set_model(_fake("classifier", latent=False))
    assert not st.supported and "no latent" in st.notice_text() and st.space_text() == ""
    st.set_model(_fake("flow", shape=(2,)))
    assert not st.supported and "vector data" in st.notice_text()


def test_endpoints_and_active_corner():
    st = _vae_state()
    assert [endpoint_text(e) for e in st.endpoints] == ["z_0", "z_1", "z_2", "z_3"]
    st.set_endpoint(0, seed=7, advance=True)
    assert st.endpoints[0] == {"kind": "seed", "seed": 7} and st.active == 1
    st.set_endpoint(1, image="/tmp/x/drop.png", advance=True)
    assert st.endpoints[1] == {"kind": "image", "spec": "/tmp/x/drop.png", "label": "drop.png"}
    assert st.active == 2  # the grid is on: B -> C
    st.settings.grid = False
    st.set_endpoint(1, image="mnist:3", label="digit #3", advance=True)
    assert endpoint_text(st.endpoints[1]) == "image: digit #3" and st.active == 0  # no grid: B -> A
    marker = object()
    st.set_endpoint_tensor(0, marker, "chain sample #2", advance=True)
    assert st.active == 1 and endpoint_text(st.endpoints[0]) == "image: chain sample #2"
    req = st.walk_request()
    assert req == {"endpoints": [marker, "mnist:3"], "method": "slerp", "frames": 10, "grid_side": 0, "steps": None}
    st.settings.grid = True
    assert st.walk_request()["endpoints"][2:] == [2, 3] and st.walk_request()["grid_side"] == 5
    for kwargs in ({}, {"seed": 1, "image": "mnist:1"}):
        with pytest.raises(ValueError, match="exactly one"):
            st.set_endpoint(0, **kwargs)
    with pytest.raises(ValueError, match="seed"):
        st.set_endpoint(0, seed=-1)
    with pytest.raises(ValueError, match="index"):
        st.set_endpoint(4, seed=1)
    assert st.picker_seeds()[:2] == [100, 101] and len(st.picker_seeds()) == 12
    assert st.picker_title(100) == "seeds 100–111"
    st.settings.digit_page = 3
    assert st.digit_indices() == [3, 103, 203, 303, 403, 503, 603, 703, 803, 903] and st.digits_fit()


def test_walk_life_cycle_texts_and_images():
    st = _vae_state()
    progress, result = _walk_objects()
    st.settings.frames, st.settings.grid_side = 4, 3
    st.begin_walk()
    assert st.status == "running" and "encoding endpoints" in st.strip_title() and st.progress() == (0, 13)
    assert (st.strip_images() == PLACEHOLDER).all() and st.strip_images().shape == (4, 1, 28, 28)
    assert st.grid_images().shape == (9, 1, 28, 28) and st.grid_cols() == 3
    assert "Decoding the path" in st.caption()
    st.walk_progress(progress)
    assert st.strip_title() == "strip A → B — decoding 2/4…" and st.progress() == (2, 13)
    shown = st.strip_images()
    assert np.array_equal(shown[:2], (np.clip(result.strip[:2], 0, 1) * 255 + 0.5).astype(np.uint8))
    assert (shown[2:] == PLACEHOLDER).all()
    st.walk_done(result)
    assert st.status == "done" and st.strip_title() == "strip A → B: slerp, 4 frames"
    assert st.grid_title() == "grid 3×3: nested slerp" and st.progress() == (13, 13)
    info = st.info_text()
    assert "‖z‖ goes 2.00–2.50 (√d = 2.45)" in info and info.startswith("VAE latent")
    assert st.done_message() == "interpolated 4 frames (slerp, VAE latent (decoder mean), z ∈ R^6)"
    assert st.can_scrub() and st.frame_of(0.5) == 2 and st.t_of_frame(3) == 1.0
    assert st.slider_value(0.25) == 50 and st.t_of_slider(100) == 0.5
    assert "4 frames along an arc" in st.caption()
    st.set_t(0.5)
    assert st.live_title_text == "t = 0.50" and st.live_message() == ""
    st.set_live(0.5, result.strip[2:3], 2.4)
    assert st.live_title_text == "t = 0.50, ‖z‖ = 2.40" and st.live_image().dtype == np.uint8
    assert st.set_live_grid_cell(5) and st.live_title_text == "φ = 45°, φ' = 90°"
    assert not st.set_live_grid_cell(9)
    # a new walk clears the old one; stopping keeps the frames decoded so far
    st.begin_walk()
    assert st.frames_unit is None and st.live_unit is None and st.info_text() == ""
    st.walk_progress(progress)
    st.walk_stopped()
    assert st.status == "idle" and st.strip_title() == "strip A → B — stopped at 2/4" and st.progress() == (2, 13)
    assert st.strip_images().shape == (4, 1, 28, 28) and st.grid_images().shape == (9, 1, 28, 28)
    st.begin_walk()
    st.walk_failed("no encoder")
    assert st.strip_title() == "strip — failed" and st.strip_message() == "error: no encoder"
    assert st.strip_images() is None and st.error == "no encoder"


def test_a_new_model_clears_the_big_frame_and_its_norm():
    """The user-reported bug at the state level: the big view kept the old ‖z‖ after a model switch."""
    st = _vae_state()
    _, result = _walk_objects()
    st.begin_walk()
    st.walk_done(result)
    st.set_t(0.5)
    st.set_live(0.5, result.strip[2:3], 2.4)
    st.set_model(_fake("gan"))
    assert st.live_unit is None and st.live_image() is None and st.live_title_text == "t = 0.50"
    assert st.live_message() == "press Interpolate" and st.status == "idle" and st.frames_unit is None
    assert st.strip_title() == "strip A → B" and st.info_text() == "" and st.strip_images() is None


def test_session_round_trip_and_validation():
    st = _vae_state()
    st.set_endpoint(0, image="mnist:3", label="digit #3")
    st.set_endpoint(1, seed=9)
    st.set_endpoint_tensor(2, object(), "chain sample #1")
    st.settings = st.settings.updated({"method": "rho", "frames": 4, "grid": False})
    st.set_t(0.25)
    state = st.session_state()
    assert state["endpoints"][:3] == [{"image": "mnist:3", "label": "digit #3"}, {"seed": 9},
                                      {"seed": 0, "was": "chain sample #1"}]
    assert state["method"] == "rho" and state["frames"] == 4 and state["t"] == 0.25 and not state["decoded"]
    other = _vae_state()
    assert other.apply_session(state) == (0.25, False)
    assert other.session_state() == {**state, "endpoints": state["endpoints"][:2] + [{"seed": 0}, {"seed": 3}]}
    # presets may leave keys out; numbers are clamped like the spin boxes; bad data changes nothing
    assert other.apply_session({"frames": 500, "t": 2, "decoded": True}) == (1.0, True)
    assert other.settings.frames == FRAMES_RANGE[1] and other.settings.method == "rho"
    before = other.session_state()
    for bad, match in (({"method": "cubic"}, "method"), ({"frames": "many"}, "frames"),
                       ({"endpoints": [{"seed": 1}, 5]}, "endpoint B"), ({"endpoints": {"seed": 1}}, "list"),
                       ({"t": "soon"}, "t must"), ({"endpoints": [{"seed": -3}]}, "seed"), ([], "dict")):
        with pytest.raises(ValueError, match=match):
            other.apply_session(bad)
        assert other.session_state() == before
    assert WalkSettings().updated({"grid_side": 1, "picker_seed": -5}).grid_side == 2


def test_tile_mosaic_is_imaging_make_grid():
    """The panel's tiles come from ``imaging.make_grid`` with a background colour; with a near-square column
    count it is exactly ``gui.export.mosaic``."""
    from genviz.backend.imaging import make_grid
    from genviz.gui.export import BACKGROUND, grid_shape, mosaic
    imgs = np.random.default_rng(1).integers(0, 255, (7, 1, 5, 4), dtype=np.uint8)
    assert np.array_equal(make_grid(imgs, nrow=grid_shape(7)[1], pad=2, background=BACKGROUND), mosaic(imgs, 2))
    rgb = np.repeat(imgs, 3, axis=1)
    assert np.array_equal(make_grid(rgb, nrow=3, pad=2, background=BACKGROUND), mosaic(rgb, 2))
