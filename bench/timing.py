"""Timing: best of N repeats, the systems interleaved so machine noise hits them alike."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Prepare = Callable[[int], Sequence[Any]]  # repeat number -> the arguments of each timed call
Op = Callable[[Any], Any]


@dataclass
class Result:
    """Seconds per operation of each repeat; the best one is the figure."""

    iterations: int
    seconds_per_op: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds_per_op)

    @property
    def ops_per_s(self) -> float:
        return 1.0 / self.best

    def as_dict(self) -> dict[str, Any]:
        return {"ops_per_s": round(self.ops_per_s, 1), "best_ms": round(self.best * 1e3, 4),
                "repeats_ms": [round(s * 1e3, 4) for s in self.seconds_per_op], "iterations": self.iterations}


def measure(systems: dict[str, tuple[Prepare, Op]], iterations: int, repeats: int = 3,
            warmup: int = 20) -> dict[str, Result]:
    """Run each system's op over ``prepare(repeat)``; returns the per-system results.

    Repeat ``-1`` is the untimed warm-up (``warmup`` calls). Within each repeat the
    systems run one after the other, so a noisy moment does not favour one system.
    """
    results = {name: Result(iterations) for name in systems}
    for prepare, op in systems.values():
        for arg in list(prepare(-1))[:warmup]:
            op(arg)
    for repeat in range(repeats):
        for name, (prepare, op) in systems.items():
            args = list(prepare(repeat))[:iterations]
            gc.collect()
            start = time.perf_counter()
            for arg in args:
                op(arg)
            elapsed = time.perf_counter() - start
            results[name].seconds_per_op.append(elapsed / len(args))
    return results
