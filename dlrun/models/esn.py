"""Echo state network (Jaeger 2001): a fixed random reservoir, only the readout is trained.

    h⁽ᵗ⁾ = (1 − a) h⁽ᵗ⁻¹⁾ + a tanh(W h⁽ᵗ⁻¹⁾ + s·U x⁽ᵗ⁾ + b)

W is sparse with spectral radius ρ, U is uniform in [−1, 1] scaled by s; neither is a
parameter. The readout (the deep-GLM head) is fitted in closed form by ridge regression
(`readout="ridge"`) or trained by the configured optimizer (`readout="sgd"`).
"""

import torch
from torch import Tensor, nn

from dlrun.models.base import DataInfo
from dlrun.models.recurrent import RecurrentGLM


def reservoir_matrix(size: int, spectral_radius: float, sparsity: float) -> Tensor:
    """A random (size, size) matrix with a fraction `sparsity` of zeros and spectral radius ρ."""
    weight = torch.empty(size, size, dtype=torch.float64).uniform_(-1.0, 1.0)
    weight *= torch.rand(size, size, dtype=torch.float64) >= sparsity
    radius = torch.linalg.eigvals(weight).abs().max()
    if radius == 0:  # so sparse that nothing recurs: keep it, ρ is 0
        return weight.float()
    return (weight * (spectral_radius / radius)).float()


class Reservoir(nn.Module):
    """The fixed weights, held as buffers so that no optimizer sees them."""

    def __init__(
        self,
        n_inputs: int,
        size: int,
        spectral_radius: float,
        input_scaling: float,
        sparsity: float,
    ) -> None:
        super().__init__()
        self.register_buffer("W", reservoir_matrix(size, spectral_radius, sparsity))
        self.register_buffer("U", input_scaling * torch.empty(size, n_inputs).uniform_(-1, 1))
        self.register_buffer("b", input_scaling * torch.empty(size).uniform_(-1, 1))


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
        leak_rate: float,
        readout: str,
        ridge: float,
    ) -> None:
        n_inputs = data.input_shape[1]
        body = Reservoir(n_inputs, reservoir_size, spectral_radius, input_scaling, sparsity)
        super().__init__(body, reservoir_size, data)
        self.leak_rate, self.ridge = leak_rate, ridge
        self.closed_form = readout == "ridge"  # else the configured optimizer trains the readout

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
        """Ridge regression of the targets on the reservoir states, with an unpenalised bias.

        Classification regresses one-hot (multiclass) or ±1 (binary) targets, the usual
        reservoir-computing readout; its outputs are then used as the logits η.
        """
        features = self.readout(self.states(x)).reshape(-1, self.hidden_size).double()
        targets = y.reshape(-1).double()
        if self.task == "multiclass":
            targets = nn.functional.one_hot(y.reshape(-1), self.head.n_classes).double()
        elif self.task == "binary":
            targets = 2 * targets - 1
        targets = targets.reshape(len(features), -1)
        mean_f, mean_t = features.mean(dim=0), targets.mean(dim=0)
        centered = features - mean_f
        gram = centered.T @ centered
        gram += (
            self.ridge
            * len(features)
            * torch.eye(self.hidden_size, dtype=gram.dtype, device=gram.device)
        )
        weight = torch.linalg.solve(gram, centered.T @ (targets - mean_t))  # (H, outputs)
        linear = self.head.linear
        linear.weight.copy_(weight.T.to(linear.weight.dtype))
        linear.bias.copy_((mean_t - mean_f @ weight).to(linear.bias.dtype))
