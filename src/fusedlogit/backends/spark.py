"""Spark DataFrames: the sums over partitions, each partition held as NumPy/CSR blocks by a task on an executor.

As for dask chunks (``chunked``), J and its derivatives are sums over the
DataFrame's partitions 1..P::

    Σ_i s_i ℓ_i = Σ_p Σ_{i ∈ p} s_i ℓ_i,   X^T r = Σ_p X_p^T r_p,   X̃^T D X̃ = Σ_p X̃_p^T D_p X̃_p

A fit starts one Spark job of T long-lived tasks (T ≤ the free task slots;
the partitions are coalesced into T groups, no shuffle).  Each task reads
its partitions once, through Arrow, into one in-memory backend per
partition (``DenseBackend`` for dense vectors or numeric columns,
``CsrBackend`` where a partition has sparse vectors), validated by the
in-memory checks; then it connects to the driver (``multiprocessing``'s
authenticated connection) and answers its requests: each request names a
backend method and its O(d) arguments, each answer is one partial sum per
partition, of size O(d) (O(d²) for a Hessian).  The driver adds them in
partition order by a fixed pairwise tree, so a fit is reproducible run to
run for a given partitioning, whatever T and whichever task held which
partition.  No Spark job runs per iteration, and X never crosses the
network after the first read.  The tasks end when the fit ends.

The driver's solvers see the ``ArrayBackend`` protocol; what needs the rows
themselves (probabilities of every row, cluster sums by group, a model's
labels on the driver) is not offered.  The row subsample that Newton's
method presolves on (every k-th row, as in memory) comes back to the driver
as an in-memory backend, so its iterations run there.
"""

from __future__ import annotations

import functools
import importlib
import secrets
import socket
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, answer_challenge, deliver_challenge

import numpy as np

from .._validation import as_offset, as_sample_weight, check_finite, check_finite_csr
from .base import ArrayBackend, pairwise_sum

#: the column that carries each row's partition number through the coalesced read
PARTITION_COLUMN = "__fusedlogit_partition"
#: seconds the driver waits for every task to read its partitions and connect
START_TIMEOUT = 600.0


# -- on the executors ------------------------------------------------------------------------------


def vectors_to_block(table, prefix, name):
    """X from the vector column read as ``table``'s columns ``prefix + "values"`` (every vector's stored values)
    and ``prefix + "sparse"`` (empty for a dense vector; [size, indices...] for a sparse one; null for a missing
    vector): a C-contiguous float64 array when every vector is dense, else a CSR matrix (dense vectors' entries
    kept as stored entries).  ``name``: the vector column's, for errors."""
    pieces = {field: [] for field in ("length", "values", "info length", "info")}
    first = 0
    for values, info in zip(table.column(prefix + "values").chunks, table.column(prefix + "sparse").chunks):
        if info.null_count:
            raise _RowError(f"{name}: a missing (null) vector", first + int(np.argmax(np.asarray(info.is_null()))))
        pieces["length"].append(np.diff(np.asarray(values.offsets)))
        pieces["values"].append(np.asarray(values.flatten()))
        pieces["info length"].append(np.diff(np.asarray(info.offsets)))
        pieces["info"].append(np.asarray(info.flatten()))
        first += len(values)
    lengths, values, info_lengths, info = (np.concatenate(pieces[f]) if pieces[f] else np.empty(0, np.int64)
                                           for f in pieces)
    n = lengths.size
    sparse_rows = info_lengths > 0
    info_starts = np.concatenate([[0], np.cumsum(info_lengths)[:-1]]).astype(np.int64)
    size = lengths.copy()  # a dense vector's size is its length; a sparse one's leads its indices
    size[sparse_rows] = info[info_starts[sparse_rows]]
    if n and not (size == size[0]).all():
        row = int(np.flatnonzero(size != size[0])[0])
        raise _RowError(f"{name}: vectors of different sizes ({size[0]} in the first row, {size[row]})", row)
    d = int(size[0]) if n else 0
    values = values.astype(np.float64, copy=False)
    if not sparse_rows.any():
        return values.reshape(n, d)
    from scipy import sparse

    stored = np.empty(values.size, dtype=np.int32)
    entry_sparse = np.repeat(sparse_rows, lengths)
    first_entries = np.zeros(info.size, dtype=bool)
    first_entries[info_starts[sparse_rows]] = True  # each sparse row's size, before its indices
    stored[entry_sparse] = info[~first_entries]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    stored[~entry_sparse] = (np.arange(values.size) - np.repeat(indptr[:-1], lengths))[~entry_sparse]
    return sparse.csr_matrix((values, stored, indptr), shape=(n, d))


class _RowError(ValueError):
    """A bad row found while reading a partition: ``row`` is counted within the partition."""

    def __init__(self, message, row):
        super().__init__(message)
        self.message, self.row = message, row


def columns_to_block(table, names, dtype):
    """Numeric Arrow columns as one C-contiguous (n, d) array of ``dtype`` (nulls become NaN)."""
    X = np.empty((table.num_rows, len(names)), dtype=dtype)
    for j, name in enumerate(names):
        X[:, j] = table.column(name).to_numpy(zero_copy_only=False)
    return X


def vector_of(table, name, dtype):
    """A numeric Arrow column as a NumPy vector (nulls become NaN), or None for no column."""
    if name is None:
        return None
    return np.ascontiguousarray(table.column(name).to_numpy(zero_copy_only=False), dtype=dtype)


class Partition:
    """One partition's rows as read (X, labels, weights, offset) and, after ``setup``, its in-memory backend."""

    def __init__(self, X, y, weight, offset, problem=None):
        self.X, self.y, self.weight, self.offset = X, y, weight, offset
        self.problem = problem  # a _RowError met while reading X (X is then None): raised by ``setup``
        self.n_rows = len(y)
        self.backend = None
        self._divided = {}

    def summary(self):
        """What the driver needs before choosing the model: rows, columns, and the labels' largest value."""
        finite = self.y[np.isfinite(self.y)]
        return {
            "rows": self.n_rows,
            "columns": None if self.X is None else self.X.shape[1],
            "sparse": self.X is not None and not isinstance(self.X, np.ndarray),
            "label_max": float(finite.max()) if finite.size else None,
        }

    def setup(self, loss, n_classes, first_row, n_threads, backend, columns):
        """Check the rows as in memory (errors name rows of the whole DataFrame, and ``columns``, the feature
        columns' names, if any) and build the in-memory backend (of ``backends.BACKENDS[backend]``)."""
        from . import BACKENDS

        model = importlib.import_module(loss)
        if self.problem is not None:
            raise ValueError(f"{self.problem.message} at row {first_row + self.problem.row}")
        dense, sparse = BACKENDS[backend]
        if isinstance(self.X, np.ndarray):
            check_finite("X", self.X, columns, first_row)
            cls = dense
        else:
            check_finite_csr("X", self.X, columns, first_row)
            cls = sparse
            self.X = cls.as_features(self.X)
        n = self.n_rows
        for name, a in (("y", self.y), ("sample_weight", self.weight), ("offset", self.offset)):
            if a is not None:
                check_finite(name, a, first_row=first_row)
        labels, K = model.labels(self.y, n, self.X.dtype, n_classes)
        weights = as_sample_weight(self.weight, n, self.X.dtype)
        offset = as_offset(self.offset, n)
        self.backend = cls(self.X, labels, weights, n_threads, offset, model=model, n_classes=K)
        self._divided = {}

    def data(self, divisor):
        """The backend, with its weights divided by ``divisor`` unless it is 1 (``weights_divided``)."""
        if divisor == 1.0:
            return self.backend
        if divisor not in self._divided:
            import copy

            other = copy.copy(self.backend)
            other.sample_weight = self.backend.sample_weight / np.asarray(divisor, dtype=self.backend.dtype)
            self._divided = {divisor: other}
        return self._divided[divisor]


def read_partitions(batches, spec):
    """{partition number: Partition} from the Arrow batches of this task's coalesced partitions (in order)."""
    import pyarrow as pa

    tables = {}
    for batch in batches:
        if batch.num_rows == 0:
            continue
        parts = np.asarray(batch.column(PARTITION_COLUMN))
        edges = np.flatnonzero(np.diff(parts)) + 1
        for lo, hi in zip(np.concatenate([[0], edges]), np.concatenate([edges, [len(parts)]])):
            tables.setdefault(int(parts[lo]), []).append(batch.slice(lo, hi - lo))
    out = {}
    for p in sorted(tables):
        table = pa.Table.from_batches(tables.pop(p))
        problem = None
        try:
            if spec["vector"]:
                X = vectors_to_block(table, "f0_", spec["names"][0])
            else:
                X = columns_to_block(table, spec["features"], spec["dtype"])
        except _RowError as exc:
            X, problem = None, exc
        dtype = np.float64 if X is None else X.dtype
        out[p] = Partition(
            X,
            vector_of(table, spec["label"], np.float64),
            vector_of(table, spec["weight"], dtype),
            vector_of(table, spec["offset"], np.float64),
            problem,
        )
        del table
    return out


def serve(batches, address, authkey, spec):
    """The long-lived task (a ``mapInArrow`` function): read the partitions, connect, answer until "stop"."""
    import pyarrow as pa

    try:
        parts = read_partitions(batches, spec)
        hello = ("ready", {p: part.summary() for p, part in parts.items()})
    except Exception as exc:  # noqa: BLE001 - reported to the driver, which raises it
        parts, hello = {}, ("error", f"{type(exc).__name__}: {exc}")
    conn = Client(tuple(address), authkey=authkey)
    try:
        conn.send(hello)
        while True:
            request = conn.recv()
            if request[0] == "stop":
                break
            conn.send(answer(parts, request))
    finally:
        conn.close()
    yield pa.RecordBatch.from_pydict({"partitions": [len(parts)]})


def answer(parts, request):
    """One request's answer: {partition: result} in partition order, or ("error", message)."""
    op, args = request[0], request[1:]
    try:
        if op == "setup":
            loss, n_classes, first_rows, n_threads, backend, columns = args
            for p, part in parts.items():
                part.setup(loss, n_classes, first_rows[p], n_threads, backend, columns)
            return {p: part.n_rows for p, part in parts.items()}
        if op == "call":
            divisor, name, call_args = args
            return {p: getattr(part.data(divisor), name)(*call_args) for p, part in parts.items()}
        divisor, call_args = args[0], args[1:]
        return {p: PARTITION_FUNCTIONS[op](part.data(divisor), p, *call_args) for p, part in parts.items()}
    except ValueError as exc:
        return ("value error", str(exc))
    except Exception as exc:  # noqa: BLE001 - reported to the driver, which raises it
        return ("error", f"{type(exc).__name__}: {exc}")


def label_statistics(data, partition):
    """(Σ s_i y_i, min y and max y over the rows of positive weight (None if none)) of a binary backend."""
    y, s = data.y, data.sample_weight
    total = float(y.sum(dtype=np.float64)) if s is None else float(s.astype(np.float64) @ y)
    kept = y if s is None else y[s > 0]
    return total, (float(kept.min()) if kept.size else None), (float(kept.max()) if kept.size else None)


def class_totals(data, partition):
    """Σ_i s_i [y_i = k] for every class k, (K,) float64 (labels are codes on Spark)."""
    weights = None if data.sample_weight is None else data.sample_weight.astype(np.float64)
    return np.bincount(data.y, weights=weights, minlength=data.n_classes).astype(np.float64)


def largest_weight(data, partition):
    return float(data.sample_weight.max()) if data.sample_weight is not None and data.shape[0] else None


def held_bytes(data, partition):
    """The bytes of the partition's arrays as its backend holds them (X, labels, weights, offset)."""
    X = data.X
    arrays = [X.data, X.indices, X.indptr] if hasattr(X, "indptr") else [X]
    arrays += [a for a in (data.y, data.sample_weight, data.offset) if a is not None]
    return sum(a.nbytes for a in arrays)


def every_kth_row(data, partition, step, first_rows):
    """The rows whose number in the whole DataFrame is a multiple of ``step`` (X, y, weights, offset);
    ``first_rows``: the number of every partition's first row."""
    start = (-first_rows[partition]) % step
    rows = slice(start, None, step)
    pick = lambda a: None if a is None else a[rows]  # noqa: E731
    return data.X[rows], data.y[rows], pick(data.sample_weight), pick(data.offset)


#: requests other than backend methods: name → function of (partition's backend, partition number, *args)
PARTITION_FUNCTIONS = {
    "label_statistics": label_statistics,
    "class_totals": class_totals,
    "largest_weight": largest_weight,
    "every_kth_row": every_kth_row,
    "held_bytes": held_bytes,
}


# -- on the driver ---------------------------------------------------------------------------------


class TaskGroup:
    """The fit's Spark job: ``n_tasks`` tasks holding the partitions of ``frame`` (the columns to read, as
    ``spec`` names them, coalesced into ``n_tasks`` partitions), and the driver's connection to each.

    ``summaries``: {partition: ``Partition.summary()``}.  Call ``close`` (or
    use ``with``): it stops the tasks, and cancels the job if they do not end.
    """

    def __init__(self, frame, spec, n_tasks, timeout=START_TIMEOUT):
        self._frame = frame
        self.spec = spec
        self.n_tasks = n_tasks
        self._key = secrets.token_bytes(32)
        self._group = f"fusedlogit-{secrets.token_hex(8)}"
        self.connections = []
        self._failure = None
        self._lock = threading.Lock()
        self._server = socket.create_server((spec["driver_host"], 0))
        self._server.settimeout(1.0)
        address = (spec["driver_host"], self._server.getsockname()[1])
        task = functools.partial(serve, address=address, authkey=self._key, spec=spec)
        self._job = threading.Thread(target=self._run, args=(task,), daemon=True, name=self._group)
        self._job.start()
        try:
            self.summaries = self._connect(timeout)
        except BaseException:
            self.close()
            raise

    def _run(self, task):
        """The job's thread: run the tasks' stage to its end (the tasks end at "stop")."""
        sc = self._frame.sparkSession.sparkContext
        try:
            sc.setJobGroup(self._group, "fusedlogit: partitions held for a fit", interruptOnCancel=True)
            self._frame.mapInArrow(task, "partitions long").collect()
        except BaseException as exc:  # noqa: BLE001 - kept for the driver's error message
            self._failure = exc

    def _connect(self, timeout):
        """Accept one authenticated connection per task; {partition: summary} from their greetings."""
        import time

        deadline = time.monotonic() + timeout
        summaries = {}
        while len(self.connections) < self.n_tasks:
            if self._failure is not None:
                raise RuntimeError(f"the Spark job reading the DataFrame failed: {self._failure}") from self._failure
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {len(self.connections)} of {self.n_tasks} Spark tasks started within {timeout:.0f} s: "
                    "each holds its partitions for the whole fit, so all must run at once; free task slots, or "
                    "pass n_tasks= fewer"
                )
            try:
                sock, _ = self._server.accept()
            except socket.timeout:
                continue
            sock.settimeout(None)
            conn = Connection(sock.detach())
            try:
                deliver_challenge(conn, self._key)
                answer_challenge(conn, self._key)
            except (AuthenticationError, EOFError, OSError):
                conn.close()  # not one of this fit's tasks
                continue
            self.connections.append(conn)
            hello = conn.recv()
            if hello[0] != "ready":
                raise RuntimeError(f"a Spark task could not read its partitions: {hello[1]}")
            summaries.update(hello[1])
        return dict(sorted(summaries.items()))

    def request_each(self, *message):
        """Send ``message`` to every task; every task's answer, {partition: result}, in the tasks' order."""
        if not self.connections:
            raise ValueError("the Spark data were released (the SparkSource is closed); read the DataFrame again")
        try:
            with self._lock:  # one request at a time: each task answers in the order it was asked
                for conn in self.connections:
                    conn.send(message)
                answers = [conn.recv() for conn in self.connections]
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"a Spark task holding the data stopped: {self._failure or exc}") from exc
        for reply in answers:
            if isinstance(reply, tuple):
                raise (ValueError if reply[0] == "value error" else RuntimeError)(reply[1])
        return answers

    def request(self, *message):
        """Send ``message`` to every task; [(partition, result)] in partition order."""
        return sorted(((p, r) for reply in self.request_each(*message) for p, r in reply.items()), key=lambda pr: pr[0])

    def close(self):
        """Stop the tasks; cancel the job if some never connected, or if they are still running after a few
        seconds."""
        started = len(self.connections) == self.n_tasks
        for conn in self.connections:
            try:
                conn.send(("stop",))
                conn.close()
            except OSError:
                pass
        self.connections = []
        self._server.close()
        self._job.join(10.0 if started else 0.0)
        if self._job.is_alive():
            self._frame.sparkSession.sparkContext.cancelJobGroup(self._group)
            self._job.join(30.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SparkSource:
    """What a ``SparkBackend`` is built from: a ``TaskGroup`` holding the partitions, and what they hold.

    ``frame``: the DataFrame's columns to read (``fusedlogit.spark`` prepares
    it: the partition number first, the features, label, weight, offset),
    coalesced into ``n_tasks`` partitions; ``spec`` says which columns are what.
    """

    def __init__(self, frame, spec, n_tasks, timeout=START_TIMEOUT):
        self.spec = spec
        self.weight_column, self.offset_column = spec["weight"], spec["offset"]
        self.tasks = TaskGroup(frame, spec, n_tasks, timeout)
        try:
            self._summarise(self.tasks.summaries)
        except BaseException:
            self.tasks.close()
            raise

    def _summarise(self, summaries):
        if not summaries:
            raise ValueError("X has no rows")
        rows = np.array([s["rows"] for s in summaries.values()])
        self.first_rows = dict(zip(summaries, np.concatenate([[0], np.cumsum(rows)[:-1]]).tolist()))
        widths = [(p, s["columns"]) for p, s in summaries.items() if s["columns"] is not None]
        d = widths[0][1] if widths else 0
        for p, width in widths:
            if width != d:
                raise ValueError(f"{self.spec['names'][0]}: vectors of different sizes ({d} in the first row, "
                                 f"{width}) at row {self.first_rows[p]}")
        self.shape = (int(rows.sum()), d)
        self.dtype = np.dtype(np.float64 if self.spec["vector"] else self.spec["dtype"])
        self.dense = not any(s["sparse"] for s in summaries.values())
        tops = [s["label_max"] for s in summaries.values() if s["label_max"] is not None]
        self.label_max = max(tops) if tops else None

    def setup(self, model, n_classes, backend="numba"):
        """Check and build every partition's in-memory backend of the loss ``model``; K for class labels."""
        K = None
        if model.CLASS_LABELS:
            K = n_classes if n_classes is not None else max(2, int(self.label_max or 0) + 1)
        columns = None if self.spec["vector"] else self.spec["names"]  # named in the errors about X
        self.tasks.request("setup", model.__name__, K, self.first_rows, self.spec["task_threads"], backend, columns)
        return K

    def close(self):
        self.tasks.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SparkBackend(ArrayBackend):
    """A Spark DataFrame's partitions held by a ``TaskGroup``; each request answered by every partition's
    in-memory backend and the answers added on the driver."""

    #: the solvers' sums run on the partitions' backends; the loss module's reference formulas serve the rest
    kind = "reference"
    sparse = False  # no column access: the column-walking solvers read sums, as for dense X

    def __init__(self, source, model, n_classes, n_threads, inner="numba", divisor=1.0):
        self.source, self.inner = source, inner
        self.tasks = source.tasks
        self.model, self.n_classes = model, n_classes
        self.n_threads = n_threads
        self.sums = None
        self._divisor = divisor
        self.offset = source.offset_column  # None or the column's name: only whether there is one is used
        self.sample_weight = source.weight_column

    @classmethod
    def build(cls, X, y, sample_weight, *, model, n_threads, offset=None, n_classes=None, inner="numba"):
        """Validate the partitions on the executors (the in-memory checks) and build the backend on them
        (``inner``: the partitions' backends, "numba" or "numpy"); y, sample_weight and offset are X's columns."""
        return cls(X, model, X.setup(model, n_classes, inner), n_threads, inner)

    # -- the data as the objective sees them
    shape = property(lambda self: self.source.shape)
    dtype = property(lambda self: self.source.dtype)
    X = property(lambda self: self.source)
    features = property(lambda self: self.source)

    @property
    def y(self):
        raise ValueError("the labels of Spark data stay on the executors (what needs them on the driver is not "
                         "offered for Spark DataFrames)")

    def _parts(self, name, *args):
        """[result of every partition's backend method ``name``(*args)], in partition order."""
        return [r for _, r in self.tasks.request("call", self._divisor, name, args)]

    def _function(self, name, *args):
        return [r for _, r in self.tasks.request(name, self._divisor, *args)]

    def _sum(self, name, *args):
        return pairwise_sum(self._parts(name, *args))

    def loss_gradient_sums(self, W, b, want_loss=True, want_grad=True):
        return self._sum("loss_gradient_sums", W, b, want_loss, want_grad)

    def hessp_sums(self, W, b, V, vb):
        return self._sum("hessp_sums", W, b, V, vb)

    def hessian_sums(self, W, b, cols=None):
        return self._sum("hessian_sums", W, b, cols)

    def loss_gradient_hessian_sums(self, W, b, cols):
        return self._sum("loss_gradient_hessian_sums", W, b, cols)

    @property
    def fuses_hessian(self):
        """Whether every partition's backend fuses it: dense partitions of the fused kernels, a loss with them."""
        return self.source.dense and self.inner == "numba" and hasattr(self.model.KINDS["dense"], "loss_gradient_hessian")

    def score_gram_sums(self, w, b):
        return self._sum("score_gram_sums", w, b)

    def column_sums(self):
        return self._sum("column_sums")

    def column_sum_squares(self):
        return self._sum("column_sum_squares")

    def weight_sum(self):
        return float(pairwise_sum(self._parts("weight_sum")))

    def positive_weight_count(self):
        return int(sum(self._parts("positive_weight_count")))

    def label_mean(self):
        return pairwise_sum([t for t, _, _ in self._function("label_statistics")]) / self.weight_sum()

    def label_range(self):
        ranges = [(lo, hi) for _, lo, hi in self._function("label_statistics") if lo is not None]
        return min(lo for lo, _ in ranges), max(hi for _, hi in ranges)

    def class_shares(self):
        return pairwise_sum(self._function("class_totals")) / self.weight_sum()

    def largest_weight(self):
        if self.sample_weight is None:
            return None
        return max(w for w in self._function("largest_weight") if w is not None)

    def weights_divided(self, c):
        return type(self)(self.source, self.model, self.n_classes, self.n_threads, self.inner, self._divisor * float(c))

    def max_abs_margin(self, w, b):
        return max(self._parts("max_abs_margin", w, b))

    def all_saturated(self, W, b):
        return all(self._parts("all_saturated", W, b))

    def intercept_sums(self, b):
        return pairwise_sum(self._parts("intercept_sums", b))

    def subsample(self, step):
        """Every ``step``-th row of the DataFrame, brought to the driver as an in-memory backend."""
        from scipy import sparse

        from . import BACKENDS

        dense, sparse_class = BACKENDS[self.inner]
        parts = self._function("every_kth_row", step, self.source.first_rows)
        blocks = [p for p in parts if p[0].shape[0]]
        if any(sparse.issparse(X) for X, *_ in blocks):
            X = sparse.vstack([sparse.csr_matrix(X) for X, *_ in blocks], format="csr")
            cls = sparse_class
        else:
            X = np.concatenate([X for X, *_ in blocks])
            cls = dense
        y = np.concatenate([y for _, y, _, _ in blocks])
        joined = lambda k: None if blocks[0][k] is None else np.concatenate([p[k] for p in blocks])  # noqa: E731
        return cls.build(X, y, joined(2), model=self.model, offset=joined(3), n_classes=self.n_classes,
                         n_threads=self.n_threads)

    def probabilities(self, W, b):
        raise ValueError("the probabilities of every row of Spark data stay on the executors: use "
                         "fusedlogit.spark.predict_proba(result, df, ...)")

    def score_group_sums(self, w, b, n_groups, groups):
        raise ValueError("cov_type='cluster' is not offered for Spark DataFrames; use 'HC0' or 'HC1'")

    def __repr__(self):
        return f"SparkBackend(partitions={len(self.source.first_rows)}, tasks={self.tasks.n_tasks}, shape={self.shape})"
