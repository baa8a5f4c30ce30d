"""The wire format shared by the server and its clients: JSON objects, arrays as base64 (no pickle anywhere).

An array travels as ``{"dtype": "uint8", "shape": [N, C, H, W], "b64": "..."}`` (C order); only the dtypes in
``DTYPES`` are accepted. A chain record travels as ``record_to_wire(Record)``: the figures of one step and its
uint8 previews; the float32 state ``x`` stays on the server (branching uses it there), so
``record_from_wire`` gives a ``Record`` with ``x=None`` (``RemoteChainRunner.exact_x`` asks the server for it).
"""
from __future__ import annotations

import base64
import hmac

import numpy as np

from ..gui.chain_state import Record

DTYPES = ("uint8", "float32", "float64", "int64")
TOKEN_HEADER = "Authorization"  # "Bearer <token>"
ARRAY_FIELDS = ("x_u8", "x0_u8", "probs", "drift_u8", "noise_u8", "drift_norms", "noise_norms")
SCALAR_FIELDS = ("index", "t", "t_next", "sigma", "x_norm", "eps_norm", "energy", "grad_norm", "accept", "level")


def array_to_wire(a) -> dict | None:
    """``a`` (numpy array, any shape, a dtype of ``DTYPES``) as a JSON-able dict; None stays None."""
    if a is None:
        return None
    a = np.ascontiguousarray(np.asarray(a))
    if str(a.dtype) not in DTYPES:
        raise ValueError(f"cannot send an array of dtype {a.dtype}")
    return {"dtype": str(a.dtype), "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def array_from_wire(d: dict | None) -> np.ndarray | None:
    """The numpy array ``array_to_wire`` encoded (None stays None).

    Raises:
        ValueError: an unknown dtype, or a payload whose size does not match its shape.
    """
    if d is None:
        return None
    dtype = str(d.get("dtype"))
    if dtype not in DTYPES:
        raise ValueError(f"array of unsupported dtype {dtype!r}")
    shape = tuple(int(s) for s in d.get("shape", ()))
    raw = base64.b64decode(d.get("b64", ""))
    a = np.frombuffer(raw, dtype=dtype)
    if a.size != int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"array payload of {a.size} values does not fit shape {shape}")
    return a.reshape(shape)


def _num(v):
    if v is None:
        return None
    v = float(v)
    return None if v != v else v  # NaN -> None (JSON has no NaN)


def record_to_wire(r: Record) -> dict:
    """One chain record's figures and previews (no float32 state) as a JSON-able dict."""
    out: dict = {k: getattr(r, k) for k in SCALAR_FIELDS}
    for k in ("sigma", "x_norm", "eps_norm", "energy", "grad_norm", "accept"):
        out[k] = _num(out[k])
    for k in ("index", "t", "t_next", "level"):
        out[k] = None if out[k] is None else int(out[k])
    for k in ARRAY_FIELDS:
        out[k] = array_to_wire(getattr(r, k))
    out["extra"] = {k: array_to_wire(np.asarray(v)) for k, v in (getattr(r, "extra", None) or {}).items()}
    return out


def record_from_wire(d: dict) -> Record:
    """The client-side ``Record`` of ``record_to_wire``'s dict (``x`` is None: the state stays on the server)."""
    sigma = d.get("sigma")
    x_u8 = array_from_wire(d["x_u8"])
    if x_u8 is None:
        raise ValueError("a chain record without its x_t preview")
    r = Record(index=int(d["index"]), t=d.get("t"), t_next=d.get("t_next"),
               sigma=float("nan") if sigma is None else float(sigma), x=None, x_u8=x_u8)
    for k in ("x_norm",):
        v = d.get(k)
        setattr(r, k, float("nan") if v is None else float(v))
    for k in ("eps_norm", "energy", "grad_norm", "accept"):
        setattr(r, k, d.get(k))
    r.level = d.get("level")
    for k in ARRAY_FIELDS[1:]:
        setattr(r, k, array_from_wire(d.get(k)))
    if hasattr(r, "extra"):  # a sampler's own per-sample figures (its plot_keys)
        r.extra = {str(k): array_from_wire(v) for k, v in (d.get("extra") or {}).items()}
    return r


def token_ok(expected: str | None, header: str | None) -> bool:
    """True when no token is required, or ``header`` is ``"Bearer <expected>"`` (compared in constant time)."""
    if not expected:
        return True
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].encode(), expected.encode())
