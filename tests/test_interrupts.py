"""Ctrl-C: a KeyboardInterrupt, promptly, from every entry point (checked in subprocesses, with timeouts)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest


def test_interruptible_reraises_the_keyboard_interrupt_behind_a_system_error():
    from fusedlogit._threads import interruptible

    def kernel_returned_with_interrupt_set():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(...) returned a result with an exception set") from exc

    def other_system_error():
        raise SystemError("something else")

    with pytest.raises(KeyboardInterrupt):
        interruptible(kernel_returned_with_interrupt_set)()
    with pytest.raises(SystemError, match="something else"):
        interruptible(other_system_error)()
    assert interruptible(lambda x: x + 1)(1) == 2


def _interrupt(code, after_s, timeout_s):
    """Run ``code`` (which prints "ready" when its long call starts), SIGINT it ``after_s`` later.

    Returns (what it printed last, seconds from the signal to its exit)."""
    env = dict(os.environ, FUSEDLOGIT_QUIET="1")
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(after_s)
        child.send_signal(signal.SIGINT)
        sent = time.perf_counter()
        out, err = child.communicate(timeout=timeout_s)
        return (out.strip().splitlines() or [err.strip()[-300:]])[-1], time.perf_counter() - sent
    finally:
        child.kill()


CV_RUNNING = """
    import sys, threading
    import numpy as np, fusedlogit
    rng = np.random.default_rng(0)
    n, d = 20_000, 40
    X = rng.normal(size=(n, d)); y = (rng.random(n) < 1 / (1 + np.exp(-X @ rng.normal(size=d) * 0.3))).astype(float)
    fusedlogit.cv(X[:500], y[:500], folds=2, n_alphas=3)       # compiled before the clock starts
    print("ready", flush=True)
    try:
        # about 40 s on 2 cores if left to finish
        fusedlogit.cv(X, y, folds=4, n_alphas=600, alpha_min_ratio=1e-4, tol=1e-10, l1_ratio=[0.25, 0.5, 0.75, 1.0])
        print("finished")
    except KeyboardInterrupt:
        print("KeyboardInterrupt", threading.active_count(), flush=True)
"""


def test_ctrl_c_stops_cv_without_waiting_for_its_folds():
    last, seconds = _interrupt(CV_RUNNING, after_s=2.0, timeout_s=120)
    assert last.startswith("KeyboardInterrupt"), last
    assert seconds < 15, f"cv took {seconds:.1f} s to stop after Ctrl-C"


GD_RUNNING = """
    import sys
    import numpy as np, fusedlogit
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 20)) * np.logspace(0, 3, 20)
    y = (rng.random(200_000) < 1 / (1 + np.exp(-X[:, 0] / 10))).astype(float)
    fusedlogit.fit(X[:100], y[:100], solver="gd", max_iter=2)
    print("ready", flush=True)
    try:
        fusedlogit.fit(X, y, solver="gd", max_iter=10**6, tol=1e-14)
        print("finished")
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [0.5, 0.9, 1.3, 1.7, 2.1, 2.5])
def test_ctrl_c_inside_a_fused_kernel_is_a_keyboard_interrupt(after_s):
    """Before, 3 to 8 of 8 such signals surfaced as SystemError('... returned a result with an exception set')."""
    last, _ = _interrupt(GD_RUNNING, after_s=after_s, timeout_s=120)
    assert last == "KeyboardInterrupt", last


def test_warnings_of_the_entry_points_point_at_the_callers_line():
    """The Ctrl-C handling adds no frame: a ConvergenceWarning names this file, not fusedlogit's."""
    import warnings

    import numpy as np

    import fusedlogit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (rng.random(300) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    calls = {
        "fit": lambda: fusedlogit.fit(X, y, max_iter=1),
        "fit_many": lambda: fusedlogit.fit_many(X, y, np.arange(300) % 2, max_iter=1),
        "path": lambda: fusedlogit.path(X, y, n_alphas=3, max_iter=1),
    }
    for name, call in calls.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert caught, name
        assert {w.filename for w in caught} == {__file__}, (name, [(w.filename, str(w.message)[:60]) for w in caught])
