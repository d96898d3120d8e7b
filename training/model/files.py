"""Read and write a model's arrays as .npz without pickle: only plain numeric arrays go in or out."""

from __future__ import annotations

import io
import zipfile
from typing import Mapping

import numpy as np

NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def write_npz(path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write arrays (numeric dtypes only) into a compressed .npz; refuses anything that would need pickle."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            array = np.ascontiguousarray(arrays[name])
            if not set(name) <= NAME_CHARS or array.dtype.kind not in "biuf":
                raise ValueError(f"array {name!r} ({array.dtype}) cannot be stored in a model file")
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def read_npz(content: bytes) -> dict[str, np.ndarray]:
    """Arrays of an .npz held in memory (the bytes whose checksum was verified), never unpickling."""
    with np.load(io.BytesIO(content), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}
