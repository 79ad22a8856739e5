"""GB/s of loss+gradient against d as a PNG (matplotlib): every measured method beside the read roofline.

One panel per dtype, at the largest thread count measured.  Each series is one
(method, n): the colour and line style name the method (read dashed, fused
solid, NumPy reference dotted, scikit-learn dash-dot, any other peer its own),
the marker shape names n and its fill the method again (hollow, full, half), so
every series can be told apart in greyscale too.  A method absent from the
results (a peer not installed) is simply not drawn.
"""

from __future__ import annotations

from .machine import machine_line
from .methods import KERNEL_METHODS

#: Legend names; a method not listed here is named by its key.
NAMES = {"read": "read (roofline)", "fused": "fused (Numba)", "reference": "reference (NumPy)",
         "sklearn": "scikit-learn"}
STYLES = ("--", "-", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)))
FILLS = ("none", "full", "bottom", "left", "top", "right")
MARKERS = ("o", "s", "^", "D", "v", "p", "h", "*")


OPS = ("loss_gradient", "read")


def label(method, n):
    """The legend entry of one series, e.g. ``fused (Numba) n=1e5``."""
    return f"{NAMES.get(method, method)} n={n:.0e}".replace("e+0", "e")


def _methods(rows):
    """Every method of ``rows``: ``KERNEL_METHODS`` order (read first), then other peers by name."""
    known = list(dict.fromkeys(m for m, _ in KERNEL_METHODS))
    return known + sorted({r["method"] for r in rows} - set(known))


def series(rows):
    """``{dtype: [(method, n, [(d, gb_s), ...]), ...]}``: loss+gradient of every method measured and the read.

    Rows at the largest thread count only; methods in ``_methods`` order, n ascending.
    """
    rows = [r for r in rows if r["op"] in OPS]
    k = max((r["n_threads"] for r in rows), default=None)
    order = _methods(rows)
    out = {}
    for r in sorted(rows, key=lambda r: (r["dtype"], order.index(r["method"]), r["n"], r["d"])):
        if r["n_threads"] == k:
            curves = out.setdefault(r["dtype"], [])
            if not curves or curves[-1][:2] != (r["method"], r["n"]):
                curves.append((r["method"], r["n"], []))
            curves[-1][2].append((r["d"], r["gb_s"]))
    return out


def plot(results, path):
    """Write the PNG to ``path``; returns ``{dtype: legend labels}`` as drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["kernels"]
    panels = series(rows)
    k = max((r["n_threads"] for r in rows if r["op"] in OPS), default=0)
    methods = _methods(rows)  # a method's style does not depend on which others were measured
    ns = sorted({n for curves in panels.values() for _, n, _ in curves})
    ds = sorted({d for curves in panels.values() for _, _, pts in curves for d, _ in pts})
    fig, axes = plt.subplots(max(len(panels), 1), 1, figsize=(10, 4.2 * max(len(panels), 1)), squeeze=False,
                             sharex=True, layout="constrained")
    labels = {}
    for ax, (dtype, curves) in zip(axes[:, 0], sorted(panels.items())):
        for method, n, pts in curves:
            i = methods.index(method)
            ax.plot(*zip(*pts), linestyle=STYLES[i % len(STYLES)], marker=MARKERS[ns.index(n) % len(MARKERS)],
                    fillstyle=FILLS[i % len(FILLS)], color="0.45" if method == "read" else f"C{i - 1}",
                    markerfacecoloralt="white", markersize=6, linewidth=1.4, label=label(method, n))
        ax.set(xscale="log", yscale="log", ylabel="GB/s of X read", title=f"loss+gradient, {dtype}, {k} threads")
        ax.set_xticks(ds, [str(d) for d in ds])
        ax.grid(True, which="both", alpha=0.3)
        legend = ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), handlelength=3.5)
        labels[dtype] = [t.get_text() for t in legend.get_texts()]
    if not panels:
        axes[0][0].text(0.5, 0.5, "no loss+gradient or read rows", ha="center", transform=axes[0][0].transAxes)
    axes[-1][0].set_xlabel("d (features)")
    fig.suptitle(machine_line(results["machine"]), fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return labels
