"""Timing one call, and progress lines on stderr."""

from __future__ import annotations

import math
import sys
import time


def time_call(fn, *, repeats=5, min_sample_s=0.05):
    """Per-call seconds: ``repeats`` samples, each of ``number`` back-to-back calls.

    One untimed call first (compilation, first touch of pages), then ``number``
    is chosen so that one sample lasts at least ``min_sample_s``, which keeps
    the clock's resolution out of microsecond calls.  Returns (samples, number).
    """
    fn()
    t = time.perf_counter()
    fn()
    once = time.perf_counter() - t
    number = max(1, math.ceil(min_sample_s / max(once, 1e-9)))
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t) / number)
    return samples, number


def progress(msg):
    print(msg, file=sys.stderr, flush=True)
