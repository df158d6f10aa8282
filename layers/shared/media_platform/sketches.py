"""Unique-viewer sketches: Apache DataSketches HLL_4 at lg_k 14, whose relative standard error is 0.8%, so that a
merged range stays within 2% (2.5 standard errors; lg_k 12 would be 1.25). Exact up to about 1,500 viewers, about
8 KB when full. Unique viewers over a range are answered by merging daily sketches, never by adding daily counts.

datasketches (and numpy) ship only with the functions that build or merge sketches: import this module there only."""

from __future__ import annotations

import os
from collections.abc import Iterable

# DataSketches' extension loads numpy, which starts OpenBLAS with a thread per core, and those threads spin: about
# 45 ms of CPU at every cold start, taken from the init on Lambda's share of a core. No sketch uses BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from datasketches import hll_sketch, hll_union, tgt_hll_type

LG_K = 14
_TYPE = tgt_hll_type.HLL_4  # the most compact serialisation; the estimate is the same for every type


def sketch_of(viewers: Iterable[str]) -> bytes:
    """The compact serialisation of a sketch holding these viewer hashes."""
    sketch = hll_sketch(LG_K, _TYPE)
    for viewer in viewers:
        sketch.update(viewer)
    return bytes(sketch.serialize_compact())


def merged(sketches: Iterable[bytes]) -> bytes:
    """One serialised sketch of every viewer in the serialised sketches (a day's, from its shards')."""
    union = hll_union(LG_K)
    for blob in sketches:
        union.update(hll_sketch.deserialize(blob))
    return bytes(union.get_result(_TYPE).serialize_compact())


def unique_count(sketches: Iterable[bytes], viewers: Iterable[str] = ()) -> int:
    """The estimated number of distinct viewers across the serialised sketches and the raw viewer hashes."""
    union = hll_union(LG_K)
    for blob in sketches:
        union.update(hll_sketch.deserialize(blob))
    raw = hll_sketch(LG_K, _TYPE)
    for viewer in viewers:
        raw.update(viewer)
    union.update(raw)
    estimate: float = union.get_estimate()
    return round(estimate)
