"""dlrun's echo state network against reservoirpy's on one-step Mackey-Glass: fit time, NRMSE.

One series (dlrun.data.sequences.mackey_glass, generated once), standardised once; both tools
run their reservoir once through it, fit a ridge readout on the training stretch after the
washout, and predict the test stretch carrying the state on. Same size, spectral radius, leak,
ridge λ and the SAME reservoir: reservoirpy is handed dlrun's W, U and b, so the figures differ
by implementation only. A second reservoirpy row uses its own initialisers (sparse normal W,
bernoulli inputs, no bias), the lead's original comparison. Fit time: dlrun's `fit_series` (one
run through the whole series, test stretch included, and the solve) against reservoirpy's
`fit` (training stretch) and `fit + run` (the test stretch too); best of --repeats. Printed,
not asserted. Needs the `bench` extra: pip install 'dlrun[bench]'.

    python benchmarks/esn_vs_reservoirpy.py [--length 8000] [--units 500] [--repeats 3]
"""

import argparse
from time import perf_counter

import numpy as np
import torch
from scipy import sparse
from threadpoolctl import threadpool_limits

from dlrun.build import data_info, from_schema
from dlrun.config.model import ESNConfig
from dlrun.data.base import Source, Table
from dlrun.data.sequences import forecasting_table, mackey_glass
from dlrun.data.splits import Data, prepare


class GivenSeries(Source):
    """A Mackey-Glass series already generated, cut as dlrun's forecasting sets are."""

    kind = "sequence"

    def __init__(self, series: np.ndarray, test_fraction: float) -> None:
        super().__init__(task=None, val_fraction=0.0, test_fraction=test_fraction, standardize=True)
        self.series = series

    def load(self, seed: int) -> Table:
        # windows of one value, one step ahead: row i is step i, its target the value at i + 1
        return forecasting_table(self.series, 1, 1, self.test_fraction, "mackey_glass")


def nrmse(prediction: np.ndarray, target: np.ndarray) -> float:
    """RMSE over the target's standard deviation, in float64."""
    prediction, target = np.asarray(prediction, np.float64).ravel(), target.ravel()
    return float(np.sqrt(np.mean((prediction - target) ** 2)) / target.std())


def dlrun_runner(data: Data, args: argparse.Namespace, dtype: torch.dtype):
    """dlrun's ESN: fit_series once through the series, then the test rows' predictions."""
    torch.manual_seed(args.seed)
    model = from_schema(
        ESNConfig,
        data_info(data),
        reservoir_size=args.units,
        spectral_radius=args.spectral_radius,
        leak_rate=args.leak_rate,
        ridge=args.ridge,
        sparsity=0.9,  # reservoirpy's rc_connectivity=0.1
        input_sparsity=0.9,  # reservoirpy's input_connectivity=0.1
        washout=args.washout,
    ).to(dtype)
    series, train, test = data.series.to(dtype), data.train, data.splits["test"]

    def once() -> tuple[float, float, np.ndarray]:
        started = perf_counter()
        model.fit_series(series, train.steps, train.y.to(dtype))
        fitted = perf_counter() - started
        prediction = model.series_eta(test.steps)
        return fitted, perf_counter() - started, prediction.double().numpy()

    return model, once


def reservoirpy_runner(inputs, targets, fit_end: int, args: argparse.Namespace, weights):
    """reservoirpy's Reservoir >> Ridge: fit on steps [0, fit_end) after the warmup, then run on
    through the rest from the state the fit left; `weights` (W, U, b), or None for its own."""
    from reservoirpy.nodes import Reservoir, Ridge

    options = dict(lr=args.leak_rate, sr=args.spectral_radius, seed=args.seed)
    if weights is not None:
        W, U, b = weights
        options |= dict(W=W, Win=U, bias=b)

    def once() -> tuple[float, float, np.ndarray]:
        esn = Reservoir(args.units, **options) >> Ridge(ridge=args.ridge)
        started = perf_counter()
        esn.fit(inputs[:fit_end], targets[:fit_end], warmup=args.washout)
        fitted = perf_counter() - started
        prediction = esn.run(inputs[fit_end:])
        return fitted, perf_counter() - started, prediction

    return once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=8000, help="steps of the series")
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--spectral-radius", type=float, default=1.25)
    parser.add_argument("--leak-rate", type=float, default=0.3)
    parser.add_argument("--ridge", type=float, default=1e-6)
    parser.add_argument("--washout", type=int, default=100)
    parser.add_argument("--test-fraction", type=float, default=0.25)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch's and numpy's BLAS")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        compare(args)


def compare(args: argparse.Namespace) -> None:
    """Run both tools on one series and print the table."""
    values = mackey_glass(args.length + 1, tau=17.0, step=1.0, seed=0)  # generated once
    data = prepare(
        GivenSeries(values, args.test_fraction), None, "esn", 0, torch.float64, torch.device("cpu")
    )
    inputs = data.series.numpy()  # (S, 1), standardised on the training stretch
    targets = np.append(values[1:], np.nan)[:, None]  # step t's target: the value at t + 1
    train_steps, test_steps = data.train.steps.numpy(), data.splits["test"].steps.numpy()
    fit_end = int(train_steps.max()) + 1
    y_test = data.splits["test"].y.numpy()

    model32, dlrun32 = dlrun_runner(data, args, torch.float32)
    _, dlrun64 = dlrun_runner(data, args, torch.float64)
    # reservoirpy is handed the same reservoir, held as it holds its own: W and U sparse
    W, U, b = (t.double().numpy() for t in (model32.body.W, model32.body.U, model32.body.b))
    same = (sparse.csr_matrix(W), sparse.csr_matrix(U), b)
    runners = {
        "dlrun (float32)": dlrun32,
        "dlrun (float64)": dlrun64,
        "reservoirpy (same W, U, b)": reservoirpy_runner(inputs, targets, fit_end, args, same),
        "reservoirpy (own draw)": reservoirpy_runner(inputs, targets, fit_end, args, None),
    }
    # interleaved, so that the load of a shared machine falls on every row alike; best of each
    times = {label: [] for label in runners}
    predictions = {}
    for _ in range(args.repeats):
        for label, once in runners.items():
            fitted, total, predictions[label] = once()
            times[label].append((fitted, total))
    for label in ("reservoirpy (same W, U, b)", "reservoirpy (own draw)"):
        predictions[label] = predictions[label][test_steps - fit_end]

    print(
        f"one-step Mackey-Glass, {args.length} steps ({len(train_steps)} train rows, washout "
        f"{args.washout}; {len(test_steps)} test rows carried on), {args.units} units, "
        f"ρ={args.spectral_radius}, leak {args.leak_rate}, ridge λ={args.ridge}; "
        f"threads {args.threads}; best of {args.repeats}, interleaved"
    )
    print(f"{'':28s} {'fit s':>8s} {'fit+test s':>11s} {'test NRMSE':>11s}")
    best = {
        label: (min(t[0] for t in runs), min(t[1] for t in runs)) for label, runs in times.items()
    }
    for label, (fit_s, total_s) in best.items():
        print(f"{label:28s} {fit_s:8.3f} {total_s:11.3f} {nrmse(predictions[label], y_test):11.3e}")
    reference = best["dlrun (float32)"]
    for label in ("reservoirpy (same W, U, b)", "reservoirpy (own draw)"):
        fit_s, total_s = best[label]
        print(
            f"{label}: fit {fit_s / reference[0]:.2f}×, fit + test {total_s / reference[1]:.2f}× "
            "dlrun float32's time"
        )


if __name__ == "__main__":
    main()
