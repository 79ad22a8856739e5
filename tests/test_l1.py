"""fusedlogit.fit with an L1 / elastic-net penalty and per-feature penalty weights.

The objective (binary; the multinomial one is elementwise on W, intercepts never penalised)::

    J = (1/S) Σ s_i ℓ_i + l1 Σ_j π_j |w_j| + (l2/2) Σ_j π_j w_j²,      S = Σ s_i

Everything here is checked against formulas written in this file from that definition (the KKT
conditions, a plain FISTA reference), scikit-learn's saga solver and glum, never against fusedlogit's
own objective code.  The helpers are imported by test_path_cv.py too.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import fusedlogit
from fusedlogit import ConvergenceWarning

pytestmark = pytest.mark.filterwarnings("error::fusedlogit.ConvergenceWarning")

# --------------------------------------------------------------------------------------------------
# reference formulas (plain NumPy, from the definition of J)
# --------------------------------------------------------------------------------------------------


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def softplus(z):
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _dense64(X):
    if sp.issparse(X):
        return X.toarray().astype(np.float64)
    return np.asarray(X, dtype=np.float64)


def _prep(X, y, s, pi):
    X = _dense64(X)
    y = np.asarray(y, dtype=np.float64)
    s = np.ones(X.shape[0]) if s is None else np.asarray(s, dtype=np.float64)
    pi = np.ones(X.shape[1]) if pi is None else np.asarray(pi, dtype=np.float64)
    return X, y, s, pi


def binary_parts(X, y, s, w, b, l1, l2, pi):
    """J, the smooth gradient g = Xᵀ(s ⊙ (σ(Xw+b) − y))/S + l2 π w, and ∂J/∂b."""
    X, y, s, pi = _prep(X, y, s, pi)
    S = s.sum()
    z = X @ w + b
    r = s * (sigmoid(z) - y)
    g = X.T @ r / S + l2 * pi * w
    gb = r.sum() / S
    J = np.sum(s * (softplus(z) - y * z)) / S + l1 * np.sum(pi * np.abs(w)) + 0.5 * l2 * np.sum(pi * w * w)
    return J, g, gb


def multinomial_parts(X, y, s, W, b, l1, l2, pi):
    """J, the smooth gradient G (K, d) and ∂J/∂b (K,) of the softmax model, labels y in 0..K−1."""
    X, _, s, pi = _prep(X, np.zeros(len(y)), s, pi)
    y = np.asarray(y).astype(np.int64)
    K = W.shape[0]
    S = s.sum()
    Z = X @ W.T + b
    m = Z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
    P = np.exp(Z - lse[:, None])
    Y = np.eye(K)[y]
    R = s[:, None] * (P - Y)
    G = R.T @ X / S + l2 * pi * W
    gb = R.sum(axis=0) / S
    J = np.sum(s * (lse - Z[np.arange(len(y)), y])) / S + l1 * np.sum(pi * np.abs(W)) + 0.5 * l2 * np.sum(pi * W * W)
    return J, G, gb


def min_norm_subgradient(g, w, lam):
    """|g_j + λ_j sign w_j| where w_j ≠ 0, max(|g_j| − λ_j, 0) where w_j = 0 (λ_j = l1 π_j)."""
    return np.where(w != 0, np.abs(g + lam * np.sign(w)), np.maximum(np.abs(g) - lam, 0.0))


def kkt(X, y, coef, intercept, *, l1, l2, pi=None, s=None, fit_intercept=True):
    """(J, max min-norm subgradient over the coefficients, max |∂J/∂b|) by the formulas above."""
    coef = np.asarray(coef, dtype=np.float64)
    pi_ = np.ones(coef.shape[-1]) if pi is None else np.asarray(pi, dtype=np.float64)
    if coef.ndim == 1:
        b = float(intercept) if fit_intercept else 0.0
        J, g, gb = binary_parts(X, y, s, coef, b, l1, l2, pi_)
    else:
        b = np.asarray(intercept, dtype=np.float64) if fit_intercept else np.zeros(coef.shape[0])
        J, g, gb = multinomial_parts(X, y, s, coef, b, l1, l2, pi_)
    sub = min_norm_subgradient(g, coef, l1 * pi_)
    return J, float(sub.max()), float(np.max(np.abs(gb))) if fit_intercept else 0.0


def assert_kkt(X, y, coef, intercept, *, l1, l2, pi=None, s=None, fit_intercept=True, tol=1e-8, what=""):
    J, sub, gb = kkt(X, y, coef, intercept, l1=l1, l2=l2, pi=pi, s=s, fit_intercept=fit_intercept)
    bound = tol * (1 + 1e-6) + 1e-13
    assert sub <= bound, f"{what}: KKT violated, max min-norm subgradient {sub:.3e} > {bound:.3e}"
    assert gb <= bound, f"{what}: intercept gradient {gb:.3e} > {bound:.3e}"
    return J, sub, gb


def assert_same_minimiser(X, y, a, b, *, l1, l2=0.0, pi=None, s=None, fit_intercept=True, what=""):
    """Two (coef, intercept) fits that meet the KKT test are as close as that test lets them be.

    J is convex: J(b) ≥ J(a) + ∂(a)·(b − a) either way round, so |J(a) − J(b)| ≤ max|∂| ‖a − b‖₁ (plus the
    rounding of J's sum over n rows).  With the
    same support and signs, J is smooth on that face with curvature at least μ (H's smallest eigenvalue
    there, taken at a), so ‖a − b‖₂ ≤ ‖∂(a) − ∂(b)‖₂ / μ ≤ √m (max|∂(a)| + max|∂(b)|) / μ: a KKT residual
    of 1e-8 leaves the coefficients free to ~1e-8 / μ, which is large where n < d nearly interpolates.
    """
    options = dict(l1=l1, l2=l2, pi=pi, s=s, fit_intercept=fit_intercept, what=what)
    (Ja, sa, ga), (Jb, sb, gb) = (assert_kkt(X, y, c, b0, **options) for c, b0 in (a, b))
    xa, xb = (np.append(c, b0) if fit_intercept else np.asarray(c, dtype=np.float64) for c, b0 in (a, b))
    residual = max(sa, ga) + max(sb, gb)
    assert abs(Ja - Jb) <= residual * np.abs(xa - xb).sum() + 1e-16 * X.shape[0] * Ja, what  # + J's rounding
    assert np.array_equal(np.sign(xa), np.sign(xb)), f"{what}: the supports or signs differ"
    face = np.flatnonzero(xa != 0.0)
    H = fusedlogit.LogisticLoss(X, y, sample_weight=s, fit_intercept=fit_intercept).hessian(xa)
    weights = np.ones(X.shape[1]) if pi is None else np.asarray(pi, dtype=np.float64)
    H[np.arange(X.shape[1]), np.arange(X.shape[1])] += l2 * weights
    mu = float(np.linalg.eigvalsh(H[np.ix_(face, face)])[0])
    assert np.linalg.norm(xa - xb) <= np.sqrt(face.size) * residual / mu, what


def soft_threshold(u, t):
    return np.sign(u) * np.maximum(np.abs(u) - t, 0.0)


def fista(grad, lam, x0, tol=1e-13, max_iter=100_000):
    """min f(x) + Σ λ_i |x_i| by FISTA: backtracking on the local Lipschitz estimate
    |∇f(x⁺) − ∇f(y)| ≤ L |x⁺ − y| (gradients only, so rounding of f does not stall it),
    gradient-based momentum restart; stops when the min-norm subgradient is ≤ tol."""
    x = np.array(x0, dtype=np.float64)
    yv = x.copy()
    t, L = 1.0, 1.0
    gy = grad(yv)
    for _ in range(max_iter):
        while True:
            xn = soft_threshold(yv - gy / L, lam / L)
            d = xn - yv
            gx = grad(xn)
            dd = d @ d
            if dd == 0.0 or (np.all(np.isfinite(gx)) and np.linalg.norm(gx - gy) <= L * np.sqrt(dd)):
                break
            L *= 2.0
        if min_norm_subgradient(gx, xn, lam).max() <= tol:
            return xn
        if (yv - xn) @ (xn - x) > 0:
            t = 1.0
        tn = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        yv = xn + (t - 1.0) / tn * (xn - x)
        x, t = xn, tn
        gy = grad(yv)
        L *= 0.95
    raise AssertionError("the FISTA reference did not converge")


def reference_fit(X, y, *, l1, l2, pi=None, s=None, fit_intercept=True, n_classes=None):
    """The minimiser of J by FISTA: (coef, intercept); multinomial intercepts centred."""
    X, yf, s, pi = _prep(X, y, s, pi)
    d = X.shape[1]
    if n_classes is None:
        def grad(c):
            b = c[d] if fit_intercept else 0.0
            _, g, gb = binary_parts(X, yf, s, c[:d], b, 0.0, l2, pi)
            return np.r_[g, gb] if fit_intercept else g

        lam = np.r_[l1 * pi, 0.0] if fit_intercept else l1 * pi
        c = fista(grad, lam, np.zeros(len(lam)))
        return c[:d], (c[d] if fit_intercept else 0.0)
    K = n_classes

    def grad(c):
        W = c[: K * d].reshape(K, d)
        b = c[K * d:] if fit_intercept else np.zeros(K)
        _, G, gb = multinomial_parts(X, y, s, W, b, 0.0, l2, pi)
        return np.r_[G.ravel(), gb] if fit_intercept else G.ravel()

    lam = np.tile(l1 * pi, K)
    if fit_intercept:
        lam = np.r_[lam, np.zeros(K)]
    c = fista(grad, lam, np.zeros(len(lam)))
    W = c[: K * d].reshape(K, d)
    b = c[K * d:] - c[K * d:].mean() if fit_intercept else np.zeros(K)
    return W, b


def centre_free(W, pi):
    """Multinomial coef (…, K, d) with the columns of π_j = 0 centred over the classes: those columns are not
    identified (adding a constant over classes changes neither the loss nor the penalty), so compare them so."""
    W = np.array(W, dtype=np.float64)
    if pi is None:
        return W
    free = np.asarray(pi) == 0
    W[..., free] -= W[..., free].mean(axis=-2, keepdims=True)
    return W


def assert_close_to(coef, ref, rel, what="", abs_floor=0.0):
    """|coef − ref| ≤ rel · max|ref| (+ abs_floor), entrywise."""
    coef, ref = np.asarray(coef, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    scale = max(np.abs(ref).max(), 1e-300)
    err = np.abs(coef - ref).max() / scale
    assert np.abs(coef - ref).max() <= rel * scale + abs_floor, (
        f"{what}: max|Δ| / max|ref| = {err:.3e} > {rel:.1e}\nours {np.ravel(coef)}\nref  {np.ravel(ref)}"
    )


def standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def make_binary(seed=0, n=400, d=8, standard=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * rng.standard_normal((d, d)) / np.sqrt(d))
    if standard:
        X = standardise(X)
    w = np.zeros(d)
    w[: max(d // 2, 1)] = rng.choice([-1.0, 1.0], max(d // 2, 1)) * rng.uniform(0.1, 1.5, max(d // 2, 1))
    y = (rng.random(n) < sigmoid(X @ w + 0.4)).astype(np.float64)
    s = rng.uniform(0.2, 2.0, n)
    return X, y, s


def make_multinomial(seed=1, n=450, d=6, K=3):
    rng = np.random.default_rng(seed)
    X = standardise(rng.standard_normal((n, d)))
    W = rng.standard_normal((K, d)) * (rng.random((K, d)) < 0.5)
    y = np.argmax(X @ W.T + rng.gumbel(size=(n, K)), axis=1)
    s = rng.uniform(0.2, 2.0, n)
    return X, y, s


def check_result_fields(res, X, y, *, l1, l2, pi=None, s=None, fit_intercept=True, tol=1e-8, what=""):
    """KKT by the formulas above, and the FitResult fields the spec defines."""
    J, sub, _ = assert_kkt(X, y, res.coef, res.intercept, l1=l1, l2=l2, pi=pi, s=s, fit_intercept=fit_intercept,
                           tol=tol, what=what)
    assert res.converged, what
    assert res.loss == pytest.approx(J, rel=1e-10, abs=1e-14), f"{what}: FitResult.loss is not J"
    assert res.n_nonzero == np.count_nonzero(res.coef), what
    assert res.grad_max <= tol * (1 + 1e-9), what
    assert sub <= res.grad_max * (1 + 1e-6) + 1e-12, f"{what}: grad_max {res.grad_max:.3e} < KKT {sub:.3e}"
    if l1 > 0:
        assert np.all(np.isnan(res.stderr)), f"{what}: stderr must be NaN when l1 > 0"


@pytest.fixture(scope="module")
def binary():
    return make_binary()


@pytest.fixture(scope="module")
def multi():
    return make_multinomial()


PI = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.0])  # two unpenalised features (1, 7)

# --------------------------------------------------------------------------------------------------
# KKT at the returned solution
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("l1,l2,pi", [(0.05, 0.0, None), (0.03, 0.02, None), (0.05, 0.0, PI), (0.005, 0.01, PI)])
def test_binary_kkt_and_fields(binary, fit_intercept, weights, l1, l2, pi):
    X, y, sw = binary
    s = sw if weights else None
    res = fusedlogit.fit(X, y, l1=l1, l2=l2, penalty_weights=pi, sample_weight=s, fit_intercept=fit_intercept)
    assert res.solver == "cd"  # auto picks cd with l1 > 0 or penalty_weights
    assert res.coef.shape == (X.shape[1],)
    check_result_fields(res, X, y, l1=l1, l2=l2, pi=pi, s=s, fit_intercept=fit_intercept)


def test_the_kkt_check_itself_can_fail(binary):
    """Guard against a vacuous KKT helper: a perturbed solution or a wrong l1 must violate it."""
    X, y, _ = binary
    res = fusedlogit.fit(X, y, l1=0.05)
    _, sub, _ = kkt(X, y, res.coef + 1e-3 * (res.coef != 0), res.intercept, l1=0.05, l2=0.0)
    assert sub > 1e-5
    _, sub, _ = kkt(X, y, res.coef, res.intercept, l1=0.04, l2=0.0)
    assert sub > 1e-5
    assert 0 < res.n_nonzero < X.shape[1]  # the test data have both zero and nonzero coefficients


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("l1,l2,pi", [(0.01, 0.0, None), (0.005, 0.02, PI[:6])])
def test_multinomial_kkt_and_fields(multi, weights, l1, l2, pi):
    X, y, sw = multi
    s = sw if weights else None
    res = fusedlogit.fit(X, y, l1=l1, l2=l2, penalty_weights=pi, sample_weight=s)
    assert res.coef.shape == (3, X.shape[1]) and res.intercept.shape == (3,)
    check_result_fields(res, X, y, l1=l1, l2=l2, pi=pi, s=s)
    assert abs(res.intercept.sum()) <= 1e-10  # intercepts centred


# --------------------------------------------------------------------------------------------------
# agreement with independent solvers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "l1,l2,pi,weights",
    [
        (0.05, 0.0, None, False),
        (0.03, 0.02, None, True),
        (0.05, 0.0, PI, True),
        (0.0, 0.05, PI, False),  # penalty_weights alone: a weighted ridge, through cd
        (0.02, 0.01, PI, False),
    ],
)
def test_binary_matches_fista(binary, fit_intercept, l1, l2, pi, weights):
    X, y, sw = binary
    s = sw if weights else None
    res = fusedlogit.fit(X, y, l1=l1, l2=l2, penalty_weights=pi, sample_weight=s, fit_intercept=fit_intercept,
                         tol=1e-10)
    w, b = reference_fit(X, y, l1=l1, l2=l2, pi=pi, s=s, fit_intercept=fit_intercept)
    assert_close_to(res.coef, w, 1e-6, "coef vs FISTA")
    if fit_intercept:
        assert abs(res.intercept - b) <= 1e-6 * max(np.abs(w).max(), abs(b))
    # coefficients that are zero with a clear margin (|g_j| < l1 π_j − 1e-6 at the reference) are exactly 0
    _, g, _ = binary_parts(X, y, s, w, b if fit_intercept else 0.0, l1, l2, pi)
    lam = l1 * (np.ones(X.shape[1]) if pi is None else pi)
    clear = (w == 0) & (np.abs(g) < lam - 1e-6)
    assert np.all(res.coef[clear] == 0.0), f"coefficients {np.flatnonzero(clear & (res.coef != 0))} should be 0"


@pytest.mark.parametrize("l1,l2,pi", [(0.01, 0.0, None), (0.004, 0.01, PI[:6])])
def test_multinomial_matches_fista(multi, l1, l2, pi):
    X, y, sw = multi
    res = fusedlogit.fit(X, y, l1=l1, l2=l2, penalty_weights=pi, sample_weight=sw, tol=1e-10)
    W, b = reference_fit(X, y, l1=l1, l2=l2, pi=pi, s=sw, n_classes=3)
    assert_close_to(centre_free(res.coef, pi), centre_free(W, pi), 1e-6, "multinomial coef vs FISTA")
    assert_close_to(res.intercept, b, 1e-6, "multinomial intercept vs FISTA", abs_floor=1e-6 * np.abs(W).max())


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("l1_ratio,C", [(1.0, 0.05), (0.5, 0.05), (1.0, 1.0)])
def test_binary_matches_sklearn_saga(binary, l1_ratio, C, weights):
    from sklearn.linear_model import LogisticRegression

    X, y, sw = binary
    n = len(y)
    s = sw if weights else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref = LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-12, max_iter=100_000)
        ref.fit(X, y, sample_weight=s)
    # sklearn: C Σ s_i ℓ_i + l1_ratio |w|_1 + (1 − l1_ratio)/2 |w|²; divided by C Σ s_i this is J with
    l1 = l1_ratio / (C * (n if s is None else s.sum()))
    l2 = (1 - l1_ratio) / (C * (n if s is None else s.sum()))
    res = fusedlogit.fit(X, y, l1=l1, l2=l2, sample_weight=s, tol=1e-10)
    assert_close_to(res.coef, ref.coef_.ravel(), 1e-5, "coef vs sklearn saga")
    assert abs(res.intercept - ref.intercept_[0]) <= 1e-5 * max(1.0, np.abs(ref.coef_).max())


def test_multinomial_matches_sklearn_saga(multi):
    from sklearn.linear_model import LogisticRegression

    X, y, _ = multi
    C = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref = LogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=1e-12, max_iter=100_000).fit(X, y)
    res = fusedlogit.fit(X, y, l1=1.0 / (C * len(y)), tol=1e-10)
    assert_close_to(res.coef, ref.coef_, 1e-5, "multinomial coef vs sklearn saga")
    assert_close_to(res.intercept, ref.intercept_ - ref.intercept_.mean(), 1e-5, "multinomial intercept",
                    abs_floor=1e-5 * np.abs(ref.coef_).max())


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("l1,l2,pi", [(0.05, 0.0, None), (0.03, 0.02, None), (0.03, 0.01, PI)])
def test_binary_matches_glum(binary, l1, l2, pi, weights):
    """glum minimises (1/(2Σs)) deviance + α·r Σ P1_j|w_j| + ½ α(1−r) wᵀ P2 w; the binomial deviance of 0/1
    labels is 2 Σ s_i ℓ_i, so α = l1 + l2, r = l1/(l1 + l2), P1 = P2 = π is exactly J (checked below by our
    KKT formulas at glum's solution before comparing)."""
    glum = pytest.importorskip("glum")
    X, y, sw = binary
    s = sw if weights else None
    P = np.ones(X.shape[1]) if pi is None else pi
    ref = glum.GeneralizedLinearRegressor(family="binomial", alpha=l1 + l2, l1_ratio=l1 / (l1 + l2), P1=P, P2=P,
                                          gradient_tol=1e-12, max_iter=1000).fit(X, y, sample_weight=s)
    # the mapping: glum's solution satisfies our KKT conditions (to glum's own accuracy)
    _, sub, gb = kkt(X, y, ref.coef_, ref.intercept_, l1=l1, l2=l2, pi=pi, s=s)
    assert sub <= 1e-8 and gb <= 1e-8, f"glum's solution is not a minimiser of J: {sub:.2e}, {gb:.2e}"
    res = fusedlogit.fit(X, y, l1=l1, l2=l2, penalty_weights=pi, sample_weight=s, tol=1e-10)
    assert_close_to(res.coef, ref.coef_, 1e-5, "coef vs glum")
    assert abs(res.intercept - ref.intercept_) <= 1e-5 * max(1.0, np.abs(ref.coef_).max())


# --------------------------------------------------------------------------------------------------
# penalty weights
# --------------------------------------------------------------------------------------------------


def test_zero_penalty_weight_leaves_a_feature_unpenalised(binary):
    X, y, _ = binary
    d = X.shape[1]
    # a penalty large enough that every penalised coefficient is zero
    l1 = 1.0
    base = fusedlogit.fit(X, y, l1=l1)
    assert base.n_nonzero == 0
    pi = np.ones(d)
    pi[[0, 5]] = 0.0
    res = fusedlogit.fit(X, y, l1=l1, penalty_weights=pi, tol=1e-10)
    assert res.coef[0] != 0 and res.coef[5] != 0
    _, g, gb = binary_parts(X, y, None, res.coef, res.intercept, 0.0, 0.0, pi)
    assert abs(g[0]) <= 1e-10 * (1 + 1e-6) and abs(g[5]) <= 1e-10 * (1 + 1e-6) and abs(gb) <= 1e-10 * (1 + 1e-6)
    assert np.all(res.coef[pi > 0] == 0)
    # so it is the unpenalised fit on those two columns alone
    sub = fusedlogit.fit(X[:, [0, 5]], y, solver="newton", tol=1e-10)
    np.testing.assert_allclose(res.coef[[0, 5]], sub.coef, rtol=1e-7, atol=1e-9)
    assert res.intercept == pytest.approx(sub.intercept, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("multinomial", [False, True])
@pytest.mark.parametrize("l1,l2", [(0.01, 0.0), (0.0, 0.02), (0.005, 0.02)])
def test_penalty_weights_scale_both_penalties(binary, multi, multinomial, l1, l2):
    X, y, _ = multi if multinomial else binary
    d = X.shape[1]
    a = fusedlogit.fit(X, y, l1=l1, l2=l2, penalty_weights=2.0 * np.ones(d), tol=1e-10)
    b = fusedlogit.fit(X, y, l1=2 * l1, l2=2 * l2, tol=1e-10)
    assert_close_to(a.coef, b.coef, 1e-7, "π = 2 vs doubled penalties")
    np.testing.assert_allclose(a.intercept, b.intercept, atol=1e-7 * max(1.0, np.abs(b.coef).max()))
    assert a.loss == pytest.approx(b.loss, rel=1e-10)


def test_unit_penalty_weights_with_l2_equal_plain_ridge(binary):
    X, y, sw = binary
    a = fusedlogit.fit(X, y, l2=0.02, penalty_weights=np.ones(X.shape[1]), sample_weight=sw, tol=1e-10)
    b = fusedlogit.fit(X, y, l2=0.02, sample_weight=sw, solver="newton", tol=1e-10)
    assert a.solver == "cd"
    assert_close_to(a.coef, b.coef, 1e-7, "cd ridge vs newton ridge")
    assert a.intercept == pytest.approx(b.intercept, abs=1e-8)


# --------------------------------------------------------------------------------------------------
# data forms: one solution
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sparse_binary():
    """Non-standardised data with about half the entries zero, so CSR is not a dense matrix in disguise."""
    rng = np.random.default_rng(5)
    n, d = 600, 10
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.5) * rng.uniform(0.5, 3.0, d) + 0.0
    X[:, 3] = (rng.random(n) < 0.2).astype(float)  # a 0/1 indicator
    w = np.r_[1.0, -0.8, 0.0, 1.2, 0.0, 0.3, 0.0, 0.0, -0.4, 0.0]
    y = (rng.random(n) < sigmoid(X @ w - 0.2)).astype(np.float64)
    s = rng.uniform(0.2, 2.0, n)
    return X, y, s


FORMS = {
    "C": lambda X: np.ascontiguousarray(X),
    "F": lambda X: np.asfortranarray(X),
    "csr": lambda X: sp.csr_matrix(X),
    "csr_array": lambda X: sp.csr_array(X),
}


PI10 = PI[[0, 1, 2, 3, 4, 5, 6, 7, 0, 2]]  # for the 10-column data


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("l1,l2,pi,weights", [(0.01, 0.0, None, False), (0.005, 0.01, PI10, True)])
def test_data_forms_give_the_dense_solution(sparse_binary, form, l1, l2, pi, weights):
    X, y, sw = sparse_binary
    s = sw if weights else None
    dense = fusedlogit.fit(X, y, l1=l1, l2=l2, penalty_weights=pi, sample_weight=s, tol=1e-10)
    res = fusedlogit.fit(FORMS[form](X), y, l1=l1, l2=l2, penalty_weights=pi, sample_weight=s, tol=1e-10)
    check_result_fields(res, X, y, l1=l1, l2=l2, pi=pi, s=s, tol=1e-10, what=form)
    assert_close_to(res.coef, dense.coef, 1e-7, form)
    assert res.intercept == pytest.approx(dense.intercept, abs=1e-7 * max(1.0, np.abs(dense.coef).max()))


@pytest.mark.parametrize("sparse", [False, True])
def test_float32(sparse_binary, sparse):
    X, y, sw = sparse_binary
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    ref = fusedlogit.fit(X64, y, l1=0.01, l2=0.005, sample_weight=sw)
    res = fusedlogit.fit(sp.csr_matrix(X32) if sparse else X32, y, l1=0.01, l2=0.005, sample_weight=sw)
    assert np.all(np.isfinite(res.coef)) and np.isfinite(res.intercept)
    assert_close_to(res.coef, ref.coef, 1e-4, "float32")
    assert res.intercept == pytest.approx(ref.intercept, abs=1e-4 * max(1.0, np.abs(ref.coef).max()))
    _, sub, gb = kkt(X64, y, res.coef, res.intercept, l1=0.01, l2=0.005, s=sw)
    assert sub <= 1e-5 and gb <= 1e-5


@pytest.mark.parametrize("dask_y", [False, True])
def test_dask_gives_the_in_memory_solution(sparse_binary, dask_y):
    da = pytest.importorskip("dask.array")
    import dask

    X, y, sw = sparse_binary
    ref = fusedlogit.fit(X, y, l1=0.01, l2=0.002, sample_weight=sw, tol=1e-10)
    with dask.config.set(scheduler="threads"):
        dX = da.from_array(X, chunks=(150, X.shape[1]))
        dy = da.from_array(y, chunks=200) if dask_y else y
        res = fusedlogit.fit(dX, dy, l1=0.01, l2=0.002, sample_weight=sw, tol=1e-10)
    check_result_fields(res, X, y, l1=0.01, l2=0.002, s=sw, tol=1e-10, what="dask")
    assert_close_to(res.coef, ref.coef, 1e-7, "dask")
    assert res.intercept == pytest.approx(ref.intercept, abs=1e-7 * max(1.0, np.abs(ref.coef).max()))


@pytest.mark.parametrize("multinomial", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_integer_weights_equal_repeated_rows(binary, multi, multinomial, fit_intercept):
    X, y, _ = multi if multinomial else binary
    rng = np.random.default_rng(11)
    k = rng.integers(0, 4, len(y))  # 0 drops a row
    kw = dict(l1=0.008, l2=0.004, fit_intercept=fit_intercept, tol=1e-10)
    a = fusedlogit.fit(X, y, sample_weight=k.astype(float), **kw)
    b = fusedlogit.fit(np.repeat(X, k, axis=0), np.repeat(y, k), **kw)
    assert_close_to(a.coef, b.coef, 1e-7, "weights vs repetition")
    np.testing.assert_allclose(a.intercept, b.intercept, atol=1e-7 * max(1.0, np.abs(b.coef).max()))
    assert a.loss == pytest.approx(b.loss, rel=1e-10)


def test_multinomial_csr_and_dense_agree(multi):
    X, y, sw = multi
    Xs = X * (np.random.default_rng(2).random(X.shape) < 0.6)
    a = fusedlogit.fit(Xs, y, l1=0.01, sample_weight=sw, tol=1e-10)
    b = fusedlogit.fit(sp.csr_matrix(Xs), y, l1=0.01, sample_weight=sw, tol=1e-10)
    assert_close_to(b.coef, a.coef, 1e-7, "multinomial csr")
    assert_kkt(Xs, y, b.coef, b.intercept, l1=0.01, l2=0.0, s=sw, tol=1e-10)


def test_warm_start_reaches_the_same_solution(binary):
    X, y, _ = binary
    cold = fusedlogit.fit(X, y, l1=0.01, tol=1e-10)
    other = fusedlogit.fit(X, y, l1=0.002, tol=1e-10)
    warm = fusedlogit.fit(X, y, l1=0.01, tol=1e-10, coef0=other.coef, intercept0=other.intercept)
    assert_close_to(warm.coef, cold.coef, 1e-7, "warm start")
    assert_kkt(X, y, warm.coef, warm.intercept, l1=0.01, l2=0.0, tol=1e-10)


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-0.1, -1e-300, np.nan, np.inf, -np.inf, True, False, np.True_, "0.1"])
def test_bad_l1(binary, bad):
    X, y, _ = binary
    with pytest.raises(ValueError, match="l1"):
        fusedlogit.fit(X, y, l1=bad)


@pytest.mark.parametrize("multinomial", [False, True])
@pytest.mark.parametrize(
    "make_bad",
    [
        lambda d: np.ones(d - 1),
        lambda d: np.ones(d + 1),
        lambda d: np.ones((1, d)),
        lambda d: np.r_[-1.0, np.ones(d - 1)],
        lambda d: np.r_[np.nan, np.ones(d - 1)],
        lambda d: np.r_[np.inf, np.ones(d - 1)],
        lambda d: ["a"] * d,
    ],
)
def test_bad_penalty_weights(binary, multi, multinomial, make_bad):
    X, y, _ = multi if multinomial else binary
    with pytest.raises(ValueError, match="penalty_weights"):
        fusedlogit.fit(X, y, l1=0.01, penalty_weights=make_bad(X.shape[1]))


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs", "gd"])
@pytest.mark.parametrize("kwargs", [{"l1": 0.01}, {"penalty_weights": np.ones(8)}, {"l1": 0.01, "l2": 0.1}])
def test_other_solvers_refuse_l1_and_penalty_weights(binary, solver, kwargs):
    X, y, _ = binary
    with pytest.raises(ValueError, match="solver"):
        fusedlogit.fit(X, y, solver=solver, **kwargs)


def test_bad_l2_still_named(binary):
    X, y, _ = binary
    with pytest.raises(ValueError, match="l2"):
        fusedlogit.fit(X, y, l1=0.01, l2=-1.0)


# --------------------------------------------------------------------------------------------------
# hostile inputs
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["dense", "csr"])
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_all_zero_column(binary, form, l2):
    X, y, _ = binary
    X = X.copy()
    X[:, 2] = 0.0
    Xf = sp.csr_matrix(X) if form == "csr" else X
    res = fusedlogit.fit(Xf, y, l1=0.005, l2=l2)
    assert res.coef[2] == 0.0  # the unique minimiser: the column does not change the loss
    check_result_fields(res, X, y, l1=0.005, l2=l2)
    ref, _ = reference_fit(X, y, l1=0.005, l2=l2)
    assert_close_to(res.coef, ref, 1e-5, "zero column")


def test_all_zero_column_in_multinomial(multi):
    X, y, _ = multi
    X = X.copy()
    X[:, 0] = 0.0
    res = fusedlogit.fit(X, y, l1=0.005)
    assert np.all(res.coef[:, 0] == 0.0)
    check_result_fields(res, X, y, l1=0.005, l2=0.0)


def test_duplicated_columns_lasso(binary):
    """Pure L1: only w_a + w_b is identified; it equals the coefficient of the column fitted once, with one sign."""
    X, y, _ = binary
    Xd = np.column_stack([X, X[:, 0]])
    res = fusedlogit.fit(Xd, y, l1=0.01, tol=1e-10)
    check_result_fields(res, Xd, y, l1=0.01, l2=0.0, tol=1e-10)
    once = fusedlogit.fit(X, y, l1=0.01, tol=1e-10)
    assert res.coef[0] * res.coef[-1] >= 0
    total = np.r_[res.coef[0] + res.coef[-1], res.coef[1:-1]]
    assert_close_to(total, once.coef, 1e-6, "duplicated columns")


def test_duplicated_columns_elastic_net_split_equally(binary):
    X, y, _ = binary
    Xd = np.column_stack([X, X[:, 0]])
    res = fusedlogit.fit(Xd, y, l1=0.01, l2=0.02, tol=1e-10)
    check_result_fields(res, Xd, y, l1=0.01, l2=0.02, tol=1e-10)
    assert res.coef[0] != 0
    assert res.coef[0] == pytest.approx(res.coef[-1], rel=1e-6)  # the unique minimiser splits equally


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [False, True])
def test_huge_penalty_gives_all_zero(binary, fit_intercept, weights):
    X, y, sw = binary
    s = sw if weights else None
    res = fusedlogit.fit(X, y, l1=1e3, sample_weight=s, fit_intercept=fit_intercept)
    assert res.converged and res.n_nonzero == 0 and np.all(res.coef == 0)
    if fit_intercept:
        pbar = np.average(y, weights=s)
        assert res.intercept == pytest.approx(np.log(pbar / (1 - pbar)), abs=1e-7)


def test_huge_penalty_multinomial(multi):
    X, y, sw = multi
    res = fusedlogit.fit(X, y, l1=1e3, l2=1.0, sample_weight=sw)
    assert res.converged and res.n_nonzero == 0 and np.all(res.coef == 0)
    freq = np.bincount(y, weights=sw) / sw.sum()
    np.testing.assert_allclose(res.intercept, np.log(freq) - np.log(freq).mean(), atol=1e-7)


@pytest.mark.parametrize("l1", [1e-4, 1e-6])
def test_tiny_penalty_on_separable_data(l1):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)  # linearly separable
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fusedlogit.fit(X, y, l1=l1)
    assert np.all(np.isfinite(res.coef)) and np.isfinite(res.intercept) and np.isfinite(res.loss)
    conv_warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if res.converged:
        assert_kkt(X, y, res.coef, res.intercept, l1=l1, l2=0.0)
        assert not conv_warned
    else:
        assert conv_warned, "not converged, but no ConvergenceWarning"
    # with an L1 penalty the minimiser exists, its L1 norm is at most J(0)/l1 = log 2 / l1
    assert np.abs(res.coef).sum() <= np.log(2) / l1


@pytest.mark.parametrize("form", ["C", "F", "csr"])
def test_inputs_are_not_mutated(sparse_binary, form):
    X, y, sw = sparse_binary
    X = FORMS[form](X.copy())
    pi = PI10.copy()
    coef0 = np.full(X.shape[1], 0.1)
    copies = [X.copy(), y.copy(), sw.copy(), pi.copy(), coef0.copy()]
    fusedlogit.fit(X, y, l1=0.01, l2=0.01, sample_weight=sw, penalty_weights=pi, coef0=coef0, intercept0=0.0)
    after = [X, y, sw, pi, coef0]
    for before, now in zip(copies, after):
        if sp.issparse(before):
            assert (before != now).nnz == 0
            np.testing.assert_array_equal(before.indices, now.indices)
            np.testing.assert_array_equal(before.indptr, now.indptr)
        else:
            np.testing.assert_array_equal(before, now)
    if form == "F":
        assert X.flags.f_contiguous


# --------------------------------------------------------------------------------------------------
# labels and scales
# --------------------------------------------------------------------------------------------------


def test_soft_labels(binary):
    X, y, sw = binary
    ys = np.clip(0.8 * y + 0.1 + 0.05 * np.sin(np.arange(len(y))), 0.0, 1.0)
    res = fusedlogit.fit(X, ys, l1=0.03, l2=0.01, sample_weight=sw, tol=1e-10)
    check_result_fields(res, X, ys, l1=0.03, l2=0.01, s=sw, tol=1e-10, what="soft labels")
    w, b = reference_fit(X, ys, l1=0.03, l2=0.01, s=sw)
    assert_close_to(res.coef, w, 1e-6, "soft labels vs FISTA")


def test_multinomial_without_intercept(multi):
    X, y, sw = multi
    res = fusedlogit.fit(X, y, l1=0.01, l2=0.002, sample_weight=sw, fit_intercept=False, tol=1e-10)
    check_result_fields(res, X, y, l1=0.01, l2=0.002, s=sw, fit_intercept=False, tol=1e-10, what="no intercept")
    W, _ = reference_fit(X, y, l1=0.01, l2=0.002, s=sw, fit_intercept=False, n_classes=3)
    assert_close_to(res.coef, W, 1e-6, "multinomial without intercept vs FISTA")


def test_columns_of_very_different_scales(binary):
    """The stopping test is held stricter on small columns: |∂J_j| · max(1, 1/rms_j) ≤ tol (spec)."""
    glum = pytest.importorskip("glum")
    X, y, _ = binary
    scales = np.array([1e-3, 1e-2, 1.0, 1e2, 1e3, 1.0, 0.1, 10.0])
    Xs = X * scales + np.array([0, 0, 0, 5e2, 0, 0, 0, 0])
    l1, l2 = 2e-3, 1e-4
    res = fusedlogit.fit(Xs, y, l1=l1, l2=l2)
    assert res.converged
    _, g, gb = binary_parts(Xs, y, None, res.coef, res.intercept, l1, l2, None)
    sub = min_norm_subgradient(g, res.coef, l1 * np.ones(len(g)))
    rms = np.sqrt(np.mean(Xs * Xs, axis=0))
    scaled = sub * np.maximum(1.0, 1.0 / rms)
    assert scaled.max() <= 1e-8 * (1 + 1e-6) + 1e-13, scaled
    assert abs(gb) <= 1e-8 * (1 + 1e-6) + 1e-13
    ref = glum.GeneralizedLinearRegressor(family="binomial", alpha=l1 + l2, l1_ratio=l1 / (l1 + l2),
                                          gradient_tol=1e-13, max_iter=2000).fit(Xs, y)
    sd = Xs.std(axis=0)
    assert_close_to(res.coef * sd, ref.coef_ * sd, 1e-5, "scaled columns vs glum (standardised units)")


def test_spector_l1_matches_statsmodels_fit_regularized():
    """statsmodels' Logit.fit_regularized(method="l1") minimises −loglike + Σ α_j |β_j| (sum scale): l1 = α/n."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.spector.load_pandas()
    X, y = data.exog.to_numpy(), data.endog.to_numpy()
    alpha = 1.0
    ref = sm.Logit(y, sm.add_constant(X, prepend=False)).fit_regularized(
        method="l1", alpha=np.r_[alpha * np.ones(X.shape[1]), 0.0], disp=0, acc=1e-12, trim_mode="size"
    )
    res = fusedlogit.fit(X, y, l1=alpha / len(y), tol=1e-10)
    np.testing.assert_allclose(np.r_[res.coef, res.intercept], np.asarray(ref.params), rtol=1e-5, atol=1e-6)
    assert res.df_model == ref.df_model == np.count_nonzero(res.coef)
    np.testing.assert_allclose([res.loglike, res.aic, res.bic], [ref.llf, ref.aic, ref.bic], rtol=1e-7)


# -- wide models: the working sets (more than 1000 coefficients) ---------------------------------


def make_wide(seed, n, d, density=1.0, classes=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < density)
    signal = X[:, :6] @ rng.uniform(1.0, 2.0, 6)
    if classes is None:
        y = (signal + rng.logistic(size=n) > 0).astype(float)
    else:
        y = np.argmax(np.outer(signal, np.linspace(-1, 1, classes)) + rng.gumbel(size=(n, classes)), axis=1)
    return X, y


@pytest.mark.parametrize("form", ["dense", "csr"])
@pytest.mark.parametrize("l1, l2", [(0.03, 0.0), (0.01, 0.01)])
def test_wide_binary_fit_meets_kkt_and_matches_fista(form, l1, l2):
    X, y = make_wide(11, 300, 1600, density=0.3)
    pi = np.r_[0.0, np.ones(1599)]  # a free feature must stay in every working set
    res = fusedlogit.fit(sp.csr_matrix(X) if form == "csr" else X, y, l1=l1, l2=l2, penalty_weights=pi)
    assert res.converged and res.solver == "cd"
    assert_kkt(X, y, res.coef, res.intercept, l1=l1, l2=l2, pi=pi, what=form)
    assert 0 < res.n_nonzero < 300
    ref, ref_b = reference_fit(X, y, l1=l1, l2=l2, pi=pi)
    assert_close_to(np.r_[res.coef, res.intercept], np.r_[ref, ref_b], 1e-6, what=form)
    assert np.all(res.coef[np.abs(ref) == 0.0] == 0.0) or np.abs(ref[res.coef != 0]).min() > 0


def test_wide_multinomial_fit_meets_kkt():
    X, y = make_wide(12, 400, 500, classes=3)  # 3 · 501 coefficients
    res = fusedlogit.fit(X, y, l1=0.02)
    assert res.converged and res.coef.shape == (3, 500)
    assert_kkt(X, y, res.coef, res.intercept, l1=0.02, l2=0.0, what="multinomial")
    assert abs(res.intercept.sum()) < 1e-12


def test_wide_path_matches_cold_fits_and_kkt():
    X, y = make_wide(13, 250, 3000, density=0.2)
    path = fusedlogit.path(sp.csr_matrix(X), y, n_alphas=8)
    assert path.converged.all() and path.n_nonzero[0] == 0 and path.n_nonzero[-1] > 0
    for i in (1, 4, 7):
        l1 = path.alphas[i]
        cold = fusedlogit.fit(X, y, l1=l1)  # dense X: each model with H formed; the path's CSR X: by columns
        assert_same_minimiser(X, y, (path.coef[i], path.intercept[i]), (cold.coef, cold.intercept), l1=l1,
                              what=f"alpha {i}")


@pytest.mark.parametrize("form", ["dense", "csr"])
@pytest.mark.parametrize("l1, l2, multinomial", [(0.01, 0.0, False), (0.004, 0.01, False), (0.01, 0.0, True)])
def test_working_sets_beyond_the_hessian_limit_finish_by_owlqn(monkeypatch, form, l1, l2, multinomial):
    """A model whose working set outgrows MAX_HESSIAN_COEF (lowered here) goes on without a Hessian (OWL-QN)
    and still meets the KKT conditions, at the minimiser that FISTA finds."""
    from fusedlogit.solvers import penalised

    monkeypatch.setattr(penalised, "FULL_MODEL_MAX_COEF", 40)
    monkeypatch.setattr(penalised, "MAX_HESSIAN_COEF", 60)
    calls = []
    monkeypatch.setattr(penalised, "orthant_wise_lbfgs",
                        lambda *a, _f=penalised.orthant_wise_lbfgs: calls.append(1) or _f(*a))
    X, y = make_wide(14, 300, 200, density=0.5, classes=3 if multinomial else None)
    pi = np.r_[0.0, np.ones(199)]
    res = fusedlogit.fit(sp.csr_matrix(X) if form == "csr" else X, y, l1=l1, l2=l2, penalty_weights=pi)
    assert calls and res.converged and res.solver == "cd", res.message
    assert_kkt(X, y, res.coef, res.intercept, l1=l1, l2=l2, pi=pi, what=form)
    assert res.n_nonzero > 60  # more than the limit allowed a Hessian for
    ref, ref_b = reference_fit(X, y, l1=l1, l2=l2, pi=pi, n_classes=3 if multinomial else None)
    if multinomial:
        assert_close_to(centre_free(res.coef, pi), centre_free(ref, pi), 1e-5, what=form)
    else:
        assert_close_to(np.r_[res.coef, res.intercept], np.r_[ref, ref_b], 1e-6, what=form)


def test_directional_decrease_keeps_its_sign_near_the_optimum():
    """Near the optimum g_j ≈ −λ_j sign(c_j): summed apart, g·δ and the penalty's change cancel down to their
    rounding, which hid a real decrease (a fit stopped at max|∂| = 1.2e-8 > tol). Compared with exact rationals."""
    from fractions import Fraction

    from fusedlogit.solvers.penalised import directional_decrease

    rng = np.random.default_rng(7)
    wrong_signs = 0
    for _ in range(200):
        coef = rng.choice([-1.0, 1.0], 6) * rng.uniform(0.3, 3.0, 6)
        coef[0] = 0.0  # at the kink: the penalty's change is λ|δ|
        lam = np.full(6, 2e-3)
        sub = rng.normal(size=6) * 1e-9
        g = sub - lam * np.sign(coef)
        g[0] = rng.uniform(-1e-3, 1e-3)
        delta = -0.5 * sub
        delta[0] = 0.0 if rng.random() < 0.5 else 1e-12
        exact = sum(
            Fraction(a) * Fraction(d) + Fraction(l) * (abs(Fraction(c) + Fraction(d)) - abs(Fraction(c)))
            for a, c, d, l in zip(g, coef, delta, lam)
        )
        got = directional_decrease(g, coef, delta, lam)
        assert got == pytest.approx(float(exact), rel=1e-9, abs=1e-30)
        plain = float(g @ delta) + float(lam @ (np.abs(coef + delta) - np.abs(coef)))
        wrong_signs += np.sign(plain) != np.sign(float(exact))
    assert wrong_signs > 0  # the case is one where the plain sum fails
