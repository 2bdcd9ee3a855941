"""Echo state network (Jaeger 2001): a fixed random reservoir, only the readout is trained.

    h⁽ᵗ⁾ = (1 − a) h⁽ᵗ⁻¹⁾ + a tanh(W h⁽ᵗ⁻¹⁾ + s·U x⁽ᵗ⁾ + b)

W is sparse with spectral radius ρ, U is uniform in [−1, 1] scaled by s (a fraction
`input_sparsity` of it zero); neither is a parameter. The readout (the deep-GLM head) is fitted
in closed form by ridge regression (`readout="ridge"`) or trained by the configured optimizer
(`readout="sgd"`).

Series mode, as reservoir computing runs it: on a dataset that is one long series
(Data.series: Mackey-Glass, NARMA-10, sunspots) the ridge readout runs the reservoir ONCE
through the whole series from h = 0, keeps the states, fits on the states at the training
rows' steps (those before step `washout` left out) and predicts every split from the same run,
so the test stretch starts from the state the series left, not from zero. Datasets of
independent sequences (adding, copy, seq_digits) restart from zero in every window.
"""

import numpy as np
import torch
from scipy import sparse
from torch import Tensor, nn

from dlrun.errors import InputError

try:  # scipy's kernel behind `csr_matrix @ vector`, called directly: it adds into a given row
    # instead of allocating a result at every step (a private name: fall back if it moves)
    from scipy.sparse._sparsetools import csr_matvec
except ImportError:  # pragma: no cover - other scipy versions
    csr_matvec = None
from dlrun.models.base import DataInfo
from dlrun.models.recurrent import RecurrentGLM

# W at most this dense is multiplied as a sparse matrix in the run through a series
SPARSE_DENSITY = 0.3


def reservoir_matrix(size: int, spectral_radius: float, sparsity: float) -> Tensor:
    """A random (size, size) matrix with a fraction `sparsity` of zeros and spectral radius ρ."""
    weight = torch.empty(size, size, dtype=torch.float64).uniform_(-1.0, 1.0)
    weight *= torch.rand(size, size, dtype=torch.float64) >= sparsity
    radius = torch.linalg.eigvals(weight).abs().max()
    if radius == 0:  # so sparse that nothing recurs: keep it, ρ is 0
        return weight.float()
    return (weight * (spectral_radius / radius)).float()


def input_matrix(size: int, n_inputs: int, scaling: float, sparsity: float) -> Tensor:
    """U (size, n_inputs) uniform in [−s, s], a fraction `sparsity` of its entries zero."""
    weight = scaling * torch.empty(size, n_inputs).uniform_(-1, 1)
    # exactly round(sparsity · entries) zeros, at random places (reservoirpy's input_connectivity
    # is 1 − sparsity)
    n_zeros = round(sparsity * weight.numel())
    if n_zeros > 0:  # no draw otherwise: dense inputs keep the reservoirs of earlier versions
        weight.view(-1)[torch.randperm(weight.numel())[:n_zeros]] = 0.0
    return weight


class Reservoir(nn.Module):
    """The fixed weights, held as buffers so that no optimizer sees them."""

    def __init__(
        self,
        n_inputs: int,
        size: int,
        spectral_radius: float,
        input_scaling: float,
        sparsity: float,
        input_sparsity: float,
    ) -> None:
        super().__init__()
        self.register_buffer("W", reservoir_matrix(size, spectral_radius, sparsity))
        self.register_buffer("U", input_matrix(size, n_inputs, input_scaling, input_sparsity))
        self.register_buffer("b", input_scaling * torch.empty(size).uniform_(-1, 1))


@torch.no_grad()
def run_through(reservoir: Reservoir, inputs: Tensor, leak_rate: float) -> Tensor:
    """The states h⁽⁰⁾…h⁽ˢ⁻¹⁾ (S, H) of one run through a series of inputs (S, F) from h = 0."""
    drive = torch.addmm(reservoir.b, inputs, reservoir.U.T)  # b + U x⁽ᵗ⁾ for every t, (S, H)
    if drive.device.type != "cpu":
        return _run_torch(reservoir.W, drive, leak_rate)
    states = drive.numpy().copy()
    _run_numpy(reservoir.W.numpy(), states, leak_rate)
    return torch.from_numpy(states)


def _run_numpy(W: np.ndarray, states: np.ndarray, leak_rate: float) -> None:
    """In place: row t of `states` holds b + U x⁽ᵗ⁾ on entry and h⁽ᵗ⁾ on return.

    The step is a handful of numpy calls on preallocated rows, since at H = 500 a step's call
    overhead is as large as its arithmetic; a sparse W (the usual reservoir) is multiplied by
    scipy's CSR kernel, which adds W h into the row in place (reservoirpy uses the same format).
    """
    size = W.shape[0]
    if np.count_nonzero(W) <= SPARSE_DENSITY * W.size:
        csr = sparse.csr_matrix(W)
        indptr, indices, values = csr.indptr, csr.indices, csr.data

        def add_recurrent(h: np.ndarray, row: np.ndarray) -> None:
            if csr_matvec is None:
                row += csr @ h
            else:
                csr_matvec(size, size, indptr, indices, values, h, row)  # row += W h
    else:
        product = np.empty(size, dtype=states.dtype)

        def add_recurrent(h: np.ndarray, row: np.ndarray) -> None:
            row += np.dot(W, h, out=product)

    h = np.zeros(size, dtype=states.dtype)
    for row in states:
        add_recurrent(h, row)  # W h⁽ᵗ⁻¹⁾ + U x⁽ᵗ⁾ + b
        np.tanh(row, out=row)
        row -= h  # h⁽ᵗ⁻¹⁾ + a (tanh(...) − h⁽ᵗ⁻¹⁾) = (1 − a) h⁽ᵗ⁻¹⁾ + a tanh(...)
        row *= leak_rate
        row += h
        h = row


def _run_torch(W: Tensor, drive: Tensor, leak_rate: float) -> Tensor:
    """The same recursion in three in-place torch kernels per step (accelerators)."""
    states = torch.empty_like(drive)
    h = torch.zeros_like(drive[0])
    for drive_t, state_t in zip(drive.unbind(0), states.unbind(0)):
        torch.addmv(drive_t, W, h, out=state_t)  # W h⁽ᵗ⁻¹⁾ + U x⁽ᵗ⁾ + b
        state_t.tanh_()
        h = torch.lerp(h, state_t, leak_rate, out=state_t)  # (1 − a) h⁽ᵗ⁻¹⁾ + a tanh(...)
    return states


def gram_matrix(x: Tensor) -> Tensor:
    """xᵀx. On the CPU through numpy, whose matmul sees a matrix times its own transpose and
    computes one triangle (BLAS syrk): half torch's work, a third of a run's fit at H = 500."""
    if x.device.type != "cpu":
        return x.T @ x
    rows = x.numpy()
    return torch.from_numpy(rows.T @ rows)


def ridge_solution(features: Tensor, targets: Tensor, penalty: float) -> tuple[Tensor, Tensor]:
    """(weight (H, outputs), bias) minimising ‖Y − XW − 1bᵀ‖² + λ‖W‖² in float64; the bias is
    not penalised (scikit-learn's Ridge(alpha=λ), reservoirpy's Ridge(ridge=λ))."""
    features, targets = features.double(), targets.double()
    mean_f, mean_t = features.mean(dim=0), targets.mean(dim=0)
    centered = features - mean_f
    gram = gram_matrix(centered)
    gram.diagonal().add_(penalty)
    weight = torch.linalg.solve(gram, centered.T @ (targets - mean_t))
    return weight, mean_t - mean_f @ weight


class ESN(RecurrentGLM):
    """An echo state network with the GLM head as its readout."""

    def __init__(
        self,
        data: DataInfo,
        *,
        reservoir_size: int,
        spectral_radius: float,
        input_scaling: float,
        sparsity: float,
        input_sparsity: float,
        leak_rate: float,
        readout: str,
        ridge: float,
        washout: int,
    ) -> None:
        n_inputs = data.input_shape[1]
        body = Reservoir(
            n_inputs, reservoir_size, spectral_radius, input_scaling, sparsity, input_sparsity
        )
        super().__init__(body, reservoir_size, data)
        self.leak_rate, self.ridge, self.washout = leak_rate, ridge, washout
        self.closed_form = readout == "ridge"  # else the configured optimizer trains the readout
        self.through_series = self.closed_form
        # the states of the last run through a series (fit_series), (S, H); not a buffer: they
        # follow from the weights and the data, so checkpoints need not hold them
        self.series_states: Tensor | None = None

    def recurrent_weight(self) -> Tensor:
        return self.body.W

    def hidden_states(self, x: Tensor, probes: Tensor | None = None) -> Tensor:
        reservoir, a = self.body, self.leak_rate
        drive = (x @ reservoir.U.T + reservoir.b).unbind(dim=1)  # T × (B, H)
        probe = None if probes is None else probes.unbind(dim=1)
        h = x.new_zeros(x.shape[0], self.hidden_size)
        states = []
        for t in range(x.shape[1]):
            h = (1 - a) * h + a * torch.tanh(drive[t] + h @ reservoir.W.T)
            if probe is not None:
                h = h + probe[t]
            states.append(h)
        return torch.stack(states, dim=1)

    @torch.no_grad()
    def fit_closed_form(self, x: Tensor, y: Tensor) -> None:
        """Ridge regression of the targets on the last states of windows that start from zero.

        Classification regresses one-hot (multiclass) or ±1 (binary) targets, the usual
        reservoir-computing readout; its outputs are then used as the logits η.
        """
        features = self.readout(self.states(x)).reshape(-1, self.hidden_size)
        targets = y.reshape(-1).double()
        if self.task == "multiclass":
            targets = nn.functional.one_hot(y.reshape(-1), self.head.n_classes).double()
        elif self.task == "binary":
            targets = 2 * targets - 1
        self._set_readout(*ridge_solution(features, targets.reshape(len(features), -1), self.ridge))

    def check_data(self, data) -> None:
        if self.through_series and data.series is not None:
            self.kept_rows(data.train.steps)

    def kept_rows(self, steps: Tensor) -> Tensor:
        """The training rows at or after the washout; none left is bad input."""
        kept = steps >= self.washout
        if not bool(kept.any()):
            raise InputError(
                f"model.washout={self.washout} leaves no training row (the last ends at step "
                f"{int(steps.max())}); allowed: washout <= {int(steps.max())}"
            )
        return kept

    @torch.no_grad()
    def fit_series(self, series: Tensor, steps: Tensor, y: Tensor) -> None:
        """Run once through the series (S, F), keep the states, and fit the readout by ridge
        regression on the states at the training rows' `steps`, those before `washout` left
        out (series are regression: targets as they are)."""
        self.series_states = run_through(self.body, series, self.leak_rate)
        kept = self.kept_rows(steps)
        features = self.series_states[steps[kept]]
        self._set_readout(*ridge_solution(features, y[kept].reshape(len(features), -1), self.ridge))

    @torch.no_grad()
    def series_eta(self, steps: Tensor) -> Tensor:
        """η at the given steps of the run that `fit_series` made (rows of any split)."""
        assert self.series_states is not None, "fit_series runs through the series first"
        return self.head(self.series_states[steps])

    def _set_readout(self, weight: Tensor, bias: Tensor) -> None:
        linear = self.head.linear
        linear.weight.copy_(weight.T.to(linear.weight.dtype))
        linear.bias.copy_(bias.to(linear.bias.dtype))
