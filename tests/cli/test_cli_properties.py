"""Property-based tests (hypothesis) of the argument validation layer of ``sample``, ``sdedit`` and ``interpolate``:
any value given to a numeric option is either refused in one ``genviz: error:`` line naming the option (exit 2), or
accepted as a finite number inside the option's declared range. Sampler parameters (``Param.validate``) likewise.
No sampling runs here."""
import contextlib
import io
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genviz.cli import _parser
from genviz.commands import LIMITS, MAX_SEED

BASE = {"sample": ["sample", "m", "--out", "x.png"], "sdedit": ["sdedit", "m", "--strokes", "s.png", "--out", "x.png"],
        "interpolate": ["interpolate", "m", "--out", "x.png"]}
OPTIONS = {  # (command, option) -> (lo, hi, kind): the declared ranges
    ("sample", "--n"): (1, LIMITS["n"], int), ("sample", "--steps"): (1, LIMITS["steps"], int),
    ("sample", "--seed"): (0, MAX_SEED, int),
    ("sdedit", "--n"): (1, LIMITS["candidates"], int), ("sdedit", "--steps"): (1, LIMITS["steps"], int),
    ("sdedit", "--t0"): (0.0, 1.0, float), ("sdedit", "--eta"): (0.0, 10.0, float),
    ("sdedit", "--guidance"): (0.0, 1000.0, float), ("sdedit", "--ilvr"): (0, 64, int),
    ("sdedit", "--repeats"): (1, LIMITS["repeats"], int), ("sdedit", "--seed"): (0, MAX_SEED, int),
    ("interpolate", "--frames"): (1, LIMITS["frames"], int), ("interpolate", "--steps"): (1, LIMITS["steps"], int),
    ("interpolate", "--seed-a"): (0, MAX_SEED, int),
}
_PARSERS: dict = {}

values = st.one_of(st.integers(min_value=-2**100, max_value=2**100).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.sampled_from(["nan", "inf", "-inf", "1e30", "-0", "0x10", "", " 3", "1_000", "٣"]),
                   st.text(max_size=8))


def parse(command: str, args: list[str]):
    """(namespace or None, exit code or None, stderr)."""
    p = _PARSERS.setdefault(command, _parser(command))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return p.parse_args(BASE[command] + args), None, err.getvalue()
        except SystemExit as e:
            return None, e.code, err.getvalue()


@pytest.mark.parametrize("command, option", list(OPTIONS))
@settings(max_examples=25, deadline=None)
@given(text=values)
def test_numeric_option_is_refused_or_in_range(command, option, text):
    lo, hi, kind = OPTIONS[(command, option)]
    ns, code, err = parse(command, [option, text] if not text.startswith("-") else [f"{option}={text}"])
    if ns is None:
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("genviz: error:"), err
        assert option in lines[0] or "expected one argument" in lines[0], err
        return
    v = getattr(ns, option.lstrip("-").replace("-", "_"))
    assert isinstance(v, kind) and math.isfinite(v) and lo <= v <= hi, (text, v)


def _numeric_params():
    from genviz.backend.samplers import SAMPLERS
    return [(s.name, p) for s in SAMPLERS.values() for p in s.params if p.kind in ("int", "float")]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_sampler_parameters_are_refused_or_in_range(data):
    name, prm = data.draw(st.sampled_from(_numeric_params()))
    value = data.draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**80, 2**80),
                                st.text(max_size=6)))
    try:
        v = prm.validate(value)
    except ValueError as e:
        assert "\n" not in str(e) and prm.name in str(e)
        return
    assert math.isfinite(v) and abs(v) <= 1e12, (name, prm.name, value)
    assert prm.minimum is None or v >= prm.minimum
    assert prm.maximum is None or v <= prm.maximum


def test_integer_parameter_given_infinity_is_refused_in_one_line():
    """int(inf) raises OverflowError, not ValueError: it must still come back as a ValueError naming the parameter
    (found by the property above: annealed's steps_per_level = inf)."""
    import pytest

    from genviz.backend.samplers import SAMPLERS
    for spec in SAMPLERS.values():
        for p in spec.params:
            if p.kind == "int":
                for bad in (float("inf"), float("-inf"), float("nan")):
                    with pytest.raises(ValueError, match=p.name):
                        p.validate(bad)
