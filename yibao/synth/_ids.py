"""Identifier arithmetic of the synthetic data: permuted counters, ID-card check digits, hashes.

Every identifier is a bijective function of a counter, so identifiers are unique by
construction and need no look-up set, and planted and ordinary rows draw from the same space:
an identifier does not tell how or when its row was made.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "PERM_MODULUS",
    "TRACE_SERIAL_MODULUS",
    "certno_check_chars",
    "hash_uniform",
    "lpad_digits",
    "permute",
    "splitmix64",
]

I64 = npt.NDArray[np.int64]

PERM_MODULUS = 2_147_483_647
"""A prime (2**31 - 1): ``(a * x + b) mod p`` permutes ``[0, p)`` and ``a * x`` fits int64."""

TRACE_SERIAL_MODULUS = 999_999_937
"""The largest prime below 10**9: trace-code serials are permuted 9-digit numbers."""

_CERT_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CERT_CHARS = np.array(list("10X98765432"))


def permute(counter: I64, a: int, b: int, modulus: int = PERM_MODULUS) -> I64:
    """The affine bijection ``(a * counter + b) mod modulus`` (``counter`` < ``modulus``).

    ``a`` must be below ``modulus`` and ``modulus`` below 2**31.5 so that the product fits int64.
    """
    x = np.asarray(counter, dtype=np.int64)
    if x.size and (int(x.min()) < 0 or int(x.max()) >= modulus):
        raise ValueError(f"counter out of the permutation's range [0, {modulus})")
    return (x * np.int64(a) + np.int64(b)) % np.int64(modulus)


def lpad_digits(values: I64, width: int) -> pa.StringArray:
    """Non-negative integers as zero-padded decimal text of ``width`` characters."""
    text = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    padded: pa.StringArray = pc.utf8_lpad(text, width, "0")
    return padded


def certno_check_chars(first17: npt.NDArray[np.int8]) -> npt.NDArray[np.str_]:
    """GB 11643 check characters ('0'-'9' or 'X') for rows of the first 17 digits."""
    total = (first17.astype(np.int64) * _CERT_WEIGHTS).sum(axis=1) % 11
    chars: npt.NDArray[np.str_] = _CERT_CHARS[total]
    return chars


def certno_check_char(first17: str) -> str:
    """The GB 11643 check character of one 17-digit string."""
    digits = np.array([[int(c) for c in first17]], dtype=np.int8)
    return str(certno_check_chars(digits)[0])


def splitmix64(x: npt.NDArray[np.uint64] | npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """The SplitMix64 finaliser: a fast, well-mixed 64-bit hash of each value."""
    z = np.asarray(x).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return out


def hash_uniform(*keys: I64 | int) -> npt.NDArray[np.float64]:
    """Deterministic uniforms in [0, 1) from integer keys (combined, then hashed)."""
    acc = np.zeros(1, dtype=np.uint64)
    for key in keys:
        acc = splitmix64(acc ^ np.asarray(key).astype(np.uint64))
    out: npt.NDArray[np.float64] = (acc >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return out
