"""Costs of the recurrent models, printed (not asserted); CPU times on a shared machine.

1. ‖∂L/∂h_t‖ for every t (dlrun.analyses.gradients_through_time.hidden_gradient_norms): one
   backward pass, so the cost grows linearly in T; T = 800 should cost about 8× T = 100.
2. The written-out RNN (the loop that leaky/skip variants and the diagnostics use) against
   torch.nn.RNN with the same sizes: time per time step of forward + backward. The plain `rnn`
   trains through torch.nn.RNN itself (its equations are the lecture's).
3. The ESN's ridge readout on 10,000 steps of a 500-unit reservoir: running the reservoir,
   and the closed-form fit.
4. Bidirectional against one direction (model.bidirectional): time per time step of a training
   step (forward + backward of the loss, fused module) and of the per-step gradient norms (the
   written-out steps), for rnn, gru and lstm.

    python benchmarks/recurrent.py [--threads 1] [--repeats 5]
"""

import argparse
import statistics
from time import perf_counter

import torch
from torch import nn

from dlrun.analyses.gradients_through_time import hidden_gradient_norms
from dlrun.build import from_schema
from dlrun.config.model import ESNConfig, GatedConfig, LSTMConfig, RNNConfig
from dlrun.models.base import DataInfo


def sequences(length: int) -> DataInfo:
    """Two-feature sequences of `length` steps with one regression target each."""
    return DataInfo((length, 2), "regression", kind="sequence")


def best_of(repeats: int, work) -> float:
    """The median of `repeats` timings after one warm-up (seconds)."""
    work()
    times = []
    for _ in range(repeats):
        tick = perf_counter()
        work()
        times.append(perf_counter() - tick)
    return statistics.median(times)


def gradient_norm_cost(repeats: int, batch: int = 32, hidden: int = 64) -> None:
    print(f"1. per-step gradient norms, one backward pass (tanh rnn, B={batch}, H={hidden})")
    base = None
    for length in (100, 200, 400, 800, 1600):
        torch.manual_seed(0)
        model = from_schema(RNNConfig, sequences(length), hidden_size=hidden)
        x, y = torch.randn(batch, length, 2), torch.randn(batch)
        seconds = best_of(repeats, lambda m=model, x=x, y=y: hidden_gradient_norms(m, x, y))
        plain = best_of(repeats, lambda m=model, x=x: m.hidden_states(x)[:, -1].sum().backward())
        base = base or seconds
        print(
            f"   T={length:4d}: {1e3 * seconds:8.1f} ms   ({seconds / base:.2f}× T=100); "
            f"one forward + backward without probes {1e3 * plain:.1f} ms"
        )


def written_out_vs_fused(repeats: int, batch: int = 32, length: int = 100) -> None:
    print(f"2. written-out rnn vs torch.nn.RNN, forward + backward (B={batch}, T={length})")
    for hidden in (32, 64, 256):
        torch.manual_seed(0)
        model = from_schema(RNNConfig, sequences(length), hidden_size=hidden)
        leaky = from_schema(RNNConfig, sequences(length), hidden_size=hidden, leak=0.5)
        fused = nn.RNN(2, hidden, batch_first=True)
        x = torch.randn(batch, length, 2)

        def run(states, x=x):
            def work():
                states(x).sum().backward()

            return best_of(repeats, work) / length * 1e6

        ours = run(model.hidden_states)
        ours_leaky = run(leaky.hidden_states)
        torch_rnn = run(lambda inputs, rnn=fused: rnn(inputs)[0])
        print(
            f"   H={hidden:3d}: written-out {ours:6.1f} µs/step, leaky {ours_leaky:6.1f}, "
            f"torch.nn.RNN {torch_rnn:6.1f}  ({ours / torch_rnn:.2f}×)"
        )


def esn_ridge(repeats: int, steps: int = 10_000, size: int = 500) -> None:
    print(f"3. ESN ridge readout, {steps} steps of a {size}-unit reservoir (one sequence)")
    torch.manual_seed(0)
    data = DataInfo((steps, 1), "regression", kind="sequence", target_shape=(steps,))
    model = from_schema(ESNConfig, data, reservoir_size=size)
    x, y = torch.randn(1, steps, 1), torch.randn(1, steps)
    with torch.no_grad():
        run_seconds = best_of(max(1, repeats // 2), lambda: model.hidden_states(x))
    states = model.hidden_states(x).detach()
    model.states = lambda inputs: states  # time the fit alone, the states already computed
    fit_seconds = best_of(repeats, lambda: model.fit_closed_form(x, y))
    print(f"   running the reservoir: {run_seconds:.3f} s;  ridge fit: {fit_seconds:.3f} s")


def bidirectional_cost(repeats: int, batch: int = 32, length: int = 100, hidden: int = 64):
    print(
        f"4. bidirectional vs one direction, µs per time step (B={batch}, T={length}, H={hidden})"
    )
    x, y = torch.randn(batch, length, 2), torch.randn(batch)
    for name, schema in (("rnn", RNNConfig), ("gru", GatedConfig), ("lstm", LSTMConfig)):
        train, norms = {}, {}
        for bidirectional in (False, True):
            torch.manual_seed(0)
            model = from_schema(
                schema, sequences(length), hidden_size=hidden, bidirectional=bidirectional
            )

            def step(m=model):
                m.zero_grad()
                m.loss(x, y).backward()

            train[bidirectional] = best_of(repeats, step) / length * 1e6
            gradient_norms = lambda m=model: hidden_gradient_norms(m, x, y)  # noqa: E731
            norms[bidirectional] = best_of(repeats, gradient_norms) / length * 1e6
        print(
            f"   {name:4s}: training step {train[False]:6.1f} -> {train[True]:6.1f} "
            f"({train[True] / train[False]:.2f}×);  gradient norms {norms[False]:6.1f} -> "
            f"{norms[True]:6.1f} ({norms[True] / norms[False]:.2f}×)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats}")
    gradient_norm_cost(args.repeats)
    written_out_vs_fused(args.repeats)
    esn_ridge(args.repeats)
    bidirectional_cost(args.repeats)


if __name__ == "__main__":
    main()
