"""Bounded reads of user files: images checked for size before they are decoded, JSON documents for size and
nesting before they are used. Every refusal is one ``ValueError`` line naming the file.

Images: ``open_image`` reads only the header first (PIL opens lazily), refuses a side above ``MAX_IMAGE_SIDE``
(the canvas and SDEdit pad images to a square, so the square's area is what counts: a 186-byte 1 x 110000 PNG
would have become a 110000 x 110000 canvas of 36 GB), turns PIL's ``DecompressionBombError`` into the same line,
and only then decodes. JSON: ``read_json`` refuses anything but a regular file (a FIFO would block), a file
larger than its limit (unread), invalid UTF-8/JSON, nesting deeper than ``validate.MAX_DEPTH`` (checked without
recursion) and non-finite numbers.
"""
from __future__ import annotations

import io
import json
import stat
from pathlib import Path

from .validate import MAX_DEPTH, check_document

MAX_IMAGE_SIDE = 4096           # pixels on the longer side of an input image (padded to a square: 16.8 M pixels)
MAX_IMAGE_FILE_BYTES = 64 * 2**20


def check_regular_file(path, what: str = "file", max_bytes: int | None = None) -> Path:
    """``path`` as a Path when it is a regular file (not a FIFO, device, socket or folder) of at most
    ``max_bytes``. Raises ValueError (missing, not regular, too large, symlink loop)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such {what}") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot open the {what} ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        raise ValueError(f"{path}: the {what} is {kind}")
    if max_bytes is not None and st.st_size > max_bytes:
        raise ValueError(f"{path}: the {what} is {st.st_size / 2**20:.1f} MB (limit {max_bytes / 2**20:.0f} MB)")
    return p


def check_image_size(width: int, height: int, what: str, max_side: int = MAX_IMAGE_SIDE) -> None:
    """Refuse an image of ``width`` x ``height`` pixels with a zero or an over-long side. Raises ValueError."""
    if width < 1 or height < 1:
        raise ValueError(f"{what}: an empty image ({width} x {height} pixels)")
    if max(width, height) > max_side:
        raise ValueError(f"{what}: {width} x {height} pixels is too large (at most {max_side} on a side; "
                         "scale it down first)")


def open_image(source, what: str | None = None, max_side: int = MAX_IMAGE_SIDE):
    """Open an image file (a path) or image bytes, checked for size before decoding; returns a loaded PIL image.

    Args:
        source: a path, or ``bytes`` (e.g. a PNG from a session file).
        what: how messages name it (default: the path, or "image").
        max_side: the longest side allowed, in pixels.
    Raises:
        ValueError: missing, not a regular file, over ``MAX_IMAGE_FILE_BYTES``, not a readable image, or too large
            (also PIL's decompression-bomb refusal), in one line.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError
    stream: io.BytesIO | Path
    if isinstance(source, (bytes, bytearray)):
        what = what or "image"
        if len(source) > MAX_IMAGE_FILE_BYTES:
            raise ValueError(f"{what}: {len(source) / 2**20:.1f} MB is too large for an image")
        stream = io.BytesIO(source)
    else:
        what = what or str(source)
        stream = check_regular_file(source, "image file", MAX_IMAGE_FILE_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as im:
                check_image_size(*im.size, what, max_side)
                im.load()
                return im.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(f"{what}: the image is too large (a decompression bomb?)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError) as e:
        raise ValueError(f"{what}: not a readable image ({e.__class__.__name__})") from None


def read_json(path, what: str, max_bytes: int, max_depth: int = MAX_DEPTH):
    """Parse the JSON file ``path``, bounded: regular file, at most ``max_bytes`` (not read otherwise), UTF-8,
    nesting <= ``max_depth``, finite numbers. Raises ValueError naming the file."""
    p = check_regular_file(path, what, max_bytes)
    name = p.name
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{name}: cannot read the {what} ({e.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(f"{name}: the {what} is nested deeper than {max_depth} levels") from None
    except ValueError as e:
        raise ValueError(f"{name}: not a readable {what} (not valid JSON: {str(e).splitlines()[0][:120]})") from None
    try:
        check_document(data, what, max_depth)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    return data


_ST_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
              "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool"}


def safetensors_tensors(path) -> dict:
    """name -> (shape tuple, torch dtype) of a safetensors file's tensors, from its header only (nothing is read
    into memory; ``validate.check_weights`` compares them with the network's plan). Raises ValueError: not a
    readable safetensors file, or a dtype genviz does not load."""
    import torch
    from safetensors import safe_open
    try:
        with safe_open(str(path), framework="pt") as f:
            out = {}
            for k in f.keys():
                sl = f.get_slice(k)
                name = _ST_DTYPES.get(sl.get_dtype())
                if name is None:
                    raise ValueError(f"tensor {k} has unsupported dtype {sl.get_dtype()}")
                out[k] = (tuple(sl.get_shape()), getattr(torch, name))
            return out
    except ValueError:
        raise
    except Exception as e:  # safetensors' own errors
        why = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise ValueError(f"not a readable safetensors file ({why})") from None
