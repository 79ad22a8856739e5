"""GB/s against d as a PNG (matplotlib)."""

from __future__ import annotations

from .machine import machine_line


def plot(results, path):
    """GB/s of fused loss+gradient against d, one line per n, the read roofline dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["kernels"]
    k = max(r["n_threads"] for r in rows)
    dtypes = sorted({r["dtype"] for r in rows})
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6 * len(dtypes), 4.5), squeeze=False, sharey=True)
    for ax, dtype in zip(axes[0], dtypes):
        ns = sorted({r["n"] for r in rows if r["dtype"] == dtype})
        for i, n in enumerate(ns):
            color = f"C{i}"
            for method, style, label in (("fused", "o-", f"fused n={n:.0e}"), ("read", "--", f"read n={n:.0e}")):
                pts = sorted((r["d"], r["gb_s"]) for r in rows if r["dtype"] == dtype and r["n"] == n
                             and r["n_threads"] == k and r["method"] == method and r["op"] in ("loss_gradient", "read"))
                if pts:
                    ax.plot(*zip(*pts), style, color=color, label=label)
        ax.set_xscale("log")
        ax.set_xlabel("d (features)")
        ax.set_title(f"loss+gradient, {dtype}, {k} threads")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("GB/s of X read")
    fig.suptitle(machine_line(results["machine"]), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
