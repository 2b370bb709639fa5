"""What a missing or noisy modality costs a fitted model: accuracy and log loss under perturbations."""

import warnings

import numpy as np
import pandas as pd

from ._metrics import exact_log_loss

__all__ = ["SHARES", "SNRS_DB", "robustness_table", "plot_robustness"]

#: Shares of the clips that lose a modality.
SHARES = (0.0, 0.25, 0.5, 1.0)
#: Signal-to-noise ratios (dB) of the additive Gaussian noise.
SNRS_DB = (20.0, 10.0, 0.0)


def robustness_table(model, data, *, shares=SHARES, snrs_db=SNRS_DB, seed=0):
    """Accuracy and exact log loss of ``model`` on ``data`` with each modality removed or made noisy.

    Two perturbations, one modality at a time, the other left as it is:

    * ``missing``: a seeded share ``p`` of the clips lose the modality (its block set to NaN,
      as a missing modality is read), ``p`` in ``shares``; a model that reads only that
      modality gives those clips its training class prior;
    * ``noise``: additive Gaussian noise on the modality's input features (the pooled
      statistics a run reads by default; every frame when it reads frames) at each SNR in
      ``snrs_db``: noise power = the block's mean square / 10^(SNR/10), so 0 dB is noise as
      strong as the features.

    Parameters
    ----------
    model : fitted classifier
        Laid out as ``data`` (a run's model and the FeatureSet it predicts).
    data : FeatureSet
        Labelled clips.
    shares : sequence of float, default=SHARES
    snrs_db : sequence of float, default=SNRS_DB
    seed : int, default=0
        Seed of the clips chosen and of the noise (the same for every run, so runs compare).

    Returns
    -------
    DataFrame
        One row per (perturbation, modality, level): ``perturbation``, ``modality``, ``level``
        (a share, or an SNR in dB), ``accuracy``, ``log_loss``.
    """
    from ..fusion import NoModalityWarning

    classes = np.asarray(model.classes_)
    labels = [str(c) for c in classes]
    y = np.asarray(data.y)

    def scores(X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoModalityWarning)  # the point of the exercise
            P = np.asarray(model.predict_proba(X), dtype=np.float64)
        pred = classes[np.argmax(P, axis=1)]
        return float(np.mean(pred.astype(str) == y.astype(str))), exact_log_loss(y, P, classes=labels)

    rows = []
    n = data.n_clips
    for k, name in enumerate(data.modality_names):
        cols = np.arange(data.X.shape[1])[data.columns(name)]
        order = np.random.default_rng([seed, k]).permutation(n)
        for share in shares:
            X = data.X.copy()
            X[np.ix_(order[:int(round(share * n))], cols)] = np.nan
            acc, ll = scores(X)
            rows.append({"perturbation": "missing", "modality": name, "level": float(share),
                         "accuracy": acc, "log_loss": ll})
        block = data.X[:, cols].astype(np.float64)
        present = ~np.isnan(block).all(axis=1)
        power = float(np.mean(block[present] ** 2)) if present.any() else 0.0
        for snr in snrs_db:
            X = data.X.copy()
            noise = np.random.default_rng([seed, k, int(round(snr * 10)) + 1000]).normal(
                scale=np.sqrt(power / 10 ** (snr / 10)), size=(n, len(cols)))
            X[:, cols] = (block + noise).astype(X.dtype)
            acc, ll = scores(X)
            rows.append({"perturbation": "noise", "modality": name, "level": float(snr),
                         "accuracy": acc, "log_loss": ll})
    return pd.DataFrame(rows)


def plot_robustness(tables, ax=None):
    """Accuracy against the share of clips that lose each modality, one line per run and modality.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Run name to its :func:`robustness_table`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    else:
        fig = ax.figure
    for run, table in tables.items():
        lost = table[table["perturbation"] == "missing"]
        for modality, part in lost.groupby("modality", sort=False):
            ax.plot(part["level"], part["accuracy"], marker="o", label=f"{run}: without {modality}")
    ax.set_xlabel("share of test clips that lose the modality")
    ax.set_ylabel("accuracy")
    ax.set_title("Robustness to a missing modality")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
