"""Environment variables put back as they were: the local stack and the benchmark change the process's own."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


@contextmanager
def restored(names: Iterable[str]) -> Iterator[None]:
    """When the block ends, each of these variables is again what it was (set, or absent) when it began."""
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
