"""ChainState and export helpers, without a window."""
import numpy as np

from genviz.gui.chain_state import Branch, ChainState, Record
from genviz.gui.export import gif_frame_indices, grid_shape, mosaic


def _rec(i, n=4):
    return Record(index=i, t=1000 - i, t_next=999 - i, sigma=1.0, x=None, x_u8=np.full((n, 1, 3, 3), i, np.uint8))


def test_follow_and_scrub():
    st = ChainState()
    b = Branch(number=1, sampler="ddim", params={}, seed=0, n=4, timesteps=list(range(9, -1, -1)),
               records=[_rec(0)], gen=object())
    st.add_branch(b)
    assert st.status == "paused" and st.position == 0
    assert st.request_step() and st.wants_step()
    st.append(b, _rec(1), last=False)
    assert st.pending_steps == 0 and not st.wants_step() and st.position == 1
    st.scrub(0)
    assert not st.follow
    st.append(b, _rec(2), last=False)
    assert st.position == 0, "a scrubbed-back view must not jump to new records"
    st.scrub(2)
    assert st.follow
    st.set_running(True)
    st.append(b, _rec(3), last=True)
    assert b.done and st.status == "done" and not st.running and st.position == 3
    assert not st.set_running(True) and not st.request_step()


def test_branch_history_shares_prefix():
    parent = Branch(number=1, sampler="ddim", params={}, seed=0, n=4, timesteps=[9, 6, 3, 0],
                    records=[_rec(i) for i in range(4)])
    child = Branch(number=2, sampler="ddpm", params={}, seed=1, n=4, timesteps=parent.timesteps, start=2,
                   parent=1, prefix=parent.history()[:2], records=[_rec(2)])
    assert len(child) == 3 and child.history()[1] is parent.records[1] and child.total_steps == 4


def test_mosaic_layout():
    imgs = np.zeros((5, 1, 4, 6), np.uint8)
    imgs[4] = 255
    m = mosaic(imgs, pad=2)
    assert grid_shape(5) == (2, 3)
    assert m.shape == (2 * 6 + 2, 3 * 8 + 2, 3)
    # tile 4 sits at row 1, column 1
    assert (m[2 + 6:2 + 6 + 4, 2 + 8:2 + 8 + 6] == 255).all()
    assert (m[2:6, 2:8] == 0).all()


def test_gif_frames_subsampled():
    assert gif_frame_indices(10) == list(range(10))
    idx = gif_frame_indices(1001, 100)
    assert len(idx) <= 100 and idx[0] == 0 and idx[-1] == 1000


def test_classifier_budget_while_running():
    """While a chain runs, the digit classifier runs only as often as keeps it under 2 % of the step time;
    single steps and the last record are always judged (the skipped ones are judged later, when idle)."""
    from genviz.gui.chain_runner import ChainRunner
    r = ChainRunner(ChainState())
    r.classifier = object()  # only its presence matters to the decision
    r._step_s, r._clf_s = 0.040, 0.005  # 40 ms steps, 5 ms classifier: every seventh step at most
    assert r._want_probs(last=False)  # not running: a single Step is always judged
    r.state.running = True
    decisions = []
    for _ in range(14):
        want = r._want_probs(last=False)
        decisions.append(want)
        r._since_clf = 0 if want else r._since_clf + 1
    assert decisions == ([False] * 6 + [True]) * 2
    assert r._want_probs(last=True)
    r.classifier = None
    assert not r._want_probs(last=True)


def test_diverging_denoising_chain_stops_with_one_clear_line(tiny_ckpt):
    """Trailing timesteps start at t = 999, where this cosine schedule's ᾱ is ~2e-9: without x̂₀ clipping the
    state leaves the data's domain. The runner records that step, stops the branch and says why, with the fix."""
    from genviz.gui.chain_runner import ChainRunner, load_model
    r = ChainRunner(ChainState())
    r.set_model(load_model(tiny_ckpt, "cpu"))
    b = r.new_chain("ddim", 20, 2, 0, {"eta": 0.0, "clip_sample": False, "timestep_spacing": "trailing"})
    for _ in range(20):
        r.step()
        if b.stopped:
            break
    assert b.stopped and not b.done and b.gen is None
    err = r.state.error
    assert err.startswith("chain diverged at step ") and "clip_sample" in err and "\n" not in err
    assert float(b.records[-1].x.abs().max()) > 50  # the diverged step is kept, to be looked at
    # the same chain with clipping (the default) stays in range and finishes
    b = r.new_chain("ddim", 20, 2, 0, {"eta": 0.0, "clip_sample": True, "timestep_spacing": "trailing"})
    for _ in range(20):
        r.step()
    assert b.done and not b.stopped and r.state.error is None
