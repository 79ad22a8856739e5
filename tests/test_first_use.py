"""The first compile says so, once; ``precompile`` builds the common kernels ahead."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

NOTICE = "fusedlogit: compiling kernels for their first use"

# counting_order compiles in about a second: enough to see the notice without compiling everything
SORT_TWICE = """
    import numpy as np
    from fusedlogit import jit as fj
    fj.counting_order(np.array([1, 0]), np.int64(0), 2, np.empty(2, np.int64))
    fj.counting_order(np.array([1, 0], np.int32), np.int64(0), 2, np.empty(2, np.int64))  # a second compile
    print("sorted")
"""


def _stderr(cache_dir, **env):
    environment = {k: v for k, v in os.environ.items() if k != "FUSEDLOGIT_QUIET"}
    environment.update(NUMBA_CACHE_DIR=str(cache_dir), **env)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SORT_TWICE)], env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "sorted" in done.stdout, done.stderr
    return done.stderr


def test_first_compile_says_so_once_and_a_cached_process_says_nothing(tmp_path):
    cold = _stderr(tmp_path)
    assert cold.count(NOTICE) == 1 and "precompile" in cold and "FUSEDLOGIT_QUIET" in cold
    assert NOTICE not in _stderr(tmp_path)  # loaded from the on-disk cache: no compile, no notice


def test_the_notice_can_be_silenced(tmp_path):
    assert NOTICE not in _stderr(tmp_path, FUSEDLOGIT_QUIET="1")


@pytest.mark.slow
def test_precompile_leaves_nothing_to_compile_for_common_fits(capsys):
    import numba.core.event as event
    import scipy.sparse as sp

    import fusedlogit

    fusedlogit.precompile(verbose=True)
    progress = capsys.readouterr().err.splitlines()
    # binary, multinomial and ordinal on dense and CSR float64/float32; binary and multinomial on two tables
    assert [line for line in progress if "[16/16] ordinal, CSR float32 ready" in line]
    assert len([line for line in progress if line.startswith("fusedlogit.precompile: [")]) == 16

    class Count(event.Listener):
        compiled = []

        def on_start(self, ev):
            self.compiled.append(ev.data["dispatcher"].py_func.__qualname__)

        def on_end(self, ev):
            pass

    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 7))
    y = (rng.random(500) < 0.5).astype(float)
    w = rng.uniform(0.5, 2.0, 500)
    with event.install_listener("numba:compile", Count()) as listener:
        for data in (X, X.astype(np.float32), sp.csr_matrix(X)):
            fusedlogit.fit(data, y, sample_weight=w)
            fusedlogit.fit(data, y, l2=1e-3, solver="lbfgs")
            fusedlogit.fit(data, np.arange(500) % 4, sample_weight=w)  # multinomial, the default solver
            fusedlogit.fit(data, np.arange(500) % 3, l2=1e-3, solver="newton")
        fusedlogit.fit_many(X, y, np.arange(500) % 5, l2=1e-3)
        from fusedlogit.precompile import _table

        for data in (X, X.astype(np.float32)):
            fusedlogit.fit(_table(data, (40, 3)), y, sample_weight=w)
            fusedlogit.fit(_table(data, (40, 3)), np.arange(500) % 3, l2=1e-3)
    assert listener.compiled == []


@pytest.mark.slow
def test_processes_compiling_at_once_leave_a_correct_cache(tmp_path):
    """Eight processes fill one empty cache at once (the exact-d sweeps share one index); then every entry is right."""
    child = """
        import sys, numpy as np
        from fusedlogit import LogisticLoss
        d, dtype = int(sys.argv[1]), sys.argv[2]
        rng = np.random.default_rng(d)
        X = rng.standard_normal((5000, d)).astype(dtype); y = (rng.random(5000) < 0.5) * 1.0
        LogisticLoss(X, y).loss_gradient(np.full(d + 1, 0.1))
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), FUSEDLOGIT_QUIET="1")
    cases = [(d, t) for d in (1, 2, 3, 4) for t in ("float64", "float32")]
    running = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(child), str(d), t], env=env) for d, t in cases
    ]
    assert all(p.wait(timeout=600) == 0 for p in running)
    check = """
        import numpy as np
        from fusedlogit import LogisticLoss
        for d in (1, 2, 3, 4):
            for dtype in ("float64", "float32"):
                rng = np.random.default_rng(d)
                X = rng.standard_normal((5000, d)).astype(dtype); y = (rng.random(5000) < 0.5) * 1.0
                c = np.full(d + 1, 0.1)
                fused = LogisticLoss(X, y).loss_gradient(c)[1]
                reference = LogisticLoss(X, y, backend="numpy").loss_gradient(c)[1]
                assert np.allclose(fused, reference, rtol=1e-5), (d, dtype)
        print("all right")
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(check)], env=env, capture_output=True, text=True)
    assert "all right" in done.stdout, done.stderr


def test_exact_d_sweeps_have_names_of_their_own():
    """Numba's symbol names are qualified name + a per-process counter: closures sharing a name could collide
    when code compiled in different processes meets in one through the cache (a wrong-D sweep, seen in CI)."""
    from fusedlogit.kernels import dense

    sweeps = [getattr(dense, f"_{kind}_{d}") for kind in ("margins", "accumulate") for d in (1, 2, 3, 4)]
    assert len({f.py_func.__qualname__ for f in sweeps}) == len(sweeps)


@pytest.mark.slow
def test_caches_filled_by_several_processes_give_right_sweeps(tmp_path):
    """The sequence that failed in CI: the bench's subprocesses and Dask's worker processes fill one empty cache,
    then the exact-d sweeps of every dtype are compared with the reference (3 of them failed before the fix)."""
    tests = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not cold",
         str(tests / "test_bench.py"), str(tests / "test_dask.py"),
         str(tests / "test_objective.py") + "::test_fused_equals_reference"],
        env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path)), capture_output=True, text=True, timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_an_edited_callee_in_another_module_invalidates_the_cached_kernel(tmp_path):
    """``tail_factor`` (kernels/pointwise.py) has ``exp_nonpositive`` (kernels/vecmath.py) compiled into it:
    after an edit of vecmath.py alone, a new process must not load the old machine code from the cache."""
    import shutil

    import fusedlogit

    package = tmp_path / "site" / "fusedlogit"
    shutil.copytree(Path(fusedlogit.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"), NUMBA_CACHE_DIR=str(tmp_path / "cache"), FUSEDLOGIT_QUIET="1")
    probe = "from fusedlogit.kernels.pointwise import tail_factor; import fusedlogit; print(fusedlogit.__file__, tail_factor(-1.0))"

    def tail_factor_of_minus_one():
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        where, value = done.stdout.split()
        assert Path(where).parent == package
        return float(value)

    assert tail_factor_of_minus_one() == pytest.approx(np.exp(-1.0), rel=1e-15)
    assert list((tmp_path / "cache").rglob("*tail_factor*.nbi"))  # cached
    vecmath = package / "kernels" / "vecmath.py"
    text = vecmath.read_text()
    edited = text.replace('    x = max(x, -746.0)\n', '    x = max(x, -746.0) - 1.0\n', 1)
    assert edited != text
    vecmath.write_text(edited)
    assert tail_factor_of_minus_one() == pytest.approx(np.exp(-2.0), rel=1e-15)


def test_compiled_sources_name_every_module_that_defines_compiled_functions():
    """Modules whose compiled functions other kernels inline must all stamp the cache; jit.py and the bench's
    roofline only call downwards, so no other kernel has their code inside it."""
    import fusedlogit
    from fusedlogit._config import COMPILED_SOURCES

    root = Path(fusedlogit.__file__).parent
    listed = {f for pattern in COMPILED_SOURCES for f in root.glob(pattern)}
    defining = {
        f for f in root.rglob("*.py")
        if "__pycache__" not in f.parts and any(
            line.startswith(("@jit", "@pjit", "@jit_exact")) for line in f.read_text().splitlines()
        )
    }
    callers_only = {root / "jit.py", root / "bench" / "roofline.py"}
    assert defining - callers_only <= listed
    pure_python = {"fitting.py", "registry.py", "results.py", "paths.py", "cv.py", "penalised.py", "sklearn.py", "model.py"}
    assert not any(f.name in pure_python for f in listed)


def test_editing_pure_python_code_or_touching_a_kernel_keeps_the_cache(tmp_path):
    """The cache is stamped with the contents of the compiled modules a kernel depends on: an edit of a solver's
    Python driver, or a new modification time on an unchanged kernel file (a fresh checkout), must not recompile
    anything, nor may a new or edited kernel module that the kernel does not import."""
    import shutil

    import fusedlogit

    package = tmp_path / "site" / "fusedlogit"
    shutil.copytree(Path(fusedlogit.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "FUSEDLOGIT_QUIET"}
    env.update(PYTHONPATH=str(tmp_path / "site"), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    probe = "from fusedlogit.kernels.pointwise import tail_factor; print(tail_factor(-1.0))"

    def stderr_of_probe():
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stderr

    assert NOTICE in stderr_of_probe()
    paths = package / "solvers" / "paths.py"
    paths.write_text(paths.read_text() + "\n# an edit of pure-Python code\n")
    vecmath = package / "kernels" / "vecmath.py"
    os.utime(vecmath, ns=(vecmath.stat().st_atime_ns, vecmath.stat().st_mtime_ns + 10**10))
    assert NOTICE not in stderr_of_probe()
    # stamped by the compiled modules it depends on only: a new kernel module, or an edit of one the probe's
    # kernel does not import, keeps its entry; an edit of one it imports (vecmath) does not
    (package / "kernels" / "another.py").write_text("from .._config import jit\n\n\n@jit\ndef f(x):\n    return x\n")
    ordinal = package / "kernels" / "ordinal.py"
    ordinal.write_text(ordinal.read_text() + "\n# an edit of a kernel module that the probe does not import\n")
    assert NOTICE not in stderr_of_probe()
    vecmath.write_text(vecmath.read_text() + "\n# an edit of a module that the probe's kernel calls into\n")
    assert NOTICE in stderr_of_probe()


BESIDE_ANOTHER_NUMBA_LIBRARY = """
    import numba, numpy as np
    import fusedlogit

    def before(x):                            # another library's compile before any of fusedlogit's
        return x - 1
    before.__module__ = None
    assert numba.njit(before)(1) == 0
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)); y = (rng.random(200) < 0.5).astype(float)
    fusedlogit.fit(X, y)                      # fusedlogit compiles (or loads) its kernels

    def theirs(x):                            # as some libraries build functions: no __module__
        return x + 1
    theirs.__module__ = None
    assert numba.njit(theirs)(1) == 2
    mod_less = numba.njit(lambda x: 2 * x)
    mod_less.py_func.__module__ = None
    assert mod_less(3) == 6
    try:
        import skglm
    except ImportError:
        pass
    else:
        skglm.SparseLogisticRegression(alpha=0.01).fit(X, 2 * y - 1)
    print("compiled beside fusedlogit")
"""


def test_other_numba_code_compiles_beside_fusedlogit():
    """The first-compile notice listens to every Numba compile in the process: it must never raise on others',
    whether fusedlogit's kernels are compiled (a cold cache) or loaded (a warm one: the second run at the latest).
    The suite's own cache is used, so that this costs no compile of its own in a full run."""
    env = {k: v for k, v in os.environ.items() if k != "FUSEDLOGIT_QUIET"}
    for cache in ("as found", "warm"):
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(BESIDE_ANOTHER_NUMBA_LIBRARY)], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0 and "compiled beside fusedlogit" in done.stdout, (cache, done.stderr[-3000:])


def test_the_notice_ignores_events_that_are_not_ours():
    import types

    from fusedlogit import _config

    for data in ({}, {"dispatcher": None}, {"dispatcher": types.SimpleNamespace(py_func=types.SimpleNamespace())},
                 {"dispatcher": types.SimpleNamespace(py_func=types.SimpleNamespace(__module__=None))},
                 {"dispatcher": types.SimpleNamespace(py_func=types.SimpleNamespace(__module__=3))}):
        assert not _config._is_ours(types.SimpleNamespace(data=data))
    ours = types.SimpleNamespace(py_func=types.SimpleNamespace(__module__="fusedlogit.kernels.dense"))
    assert _config._is_ours(types.SimpleNamespace(data={"dispatcher": ours}))


@pytest.mark.parametrize("value, expected", [
    ("", False), ("0", False), ("false", False), ("False", False), ("no", False), ("OFF", False), (" off ", False),
    ("1", True), ("true", True), ("yes", True), ("on", True),
])
def test_environment_flags_read_false_like_values_as_false(monkeypatch, value, expected):
    from fusedlogit._config import env_flag

    monkeypatch.setenv("FUSEDLOGIT_SOME_FLAG", value)
    assert env_flag("FUSEDLOGIT_SOME_FLAG") is expected


def test_quiet_false_still_says_so(tmp_path):
    assert NOTICE in _stderr(tmp_path, FUSEDLOGIT_QUIET="false")
    assert NOTICE not in _stderr(tmp_path / "other", FUSEDLOGIT_QUIET="yes")
