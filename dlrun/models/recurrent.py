"""Recurrent networks with the deep-GLM head: the lecture's RNN and its remedies, LSTM, GRU.

    a⁽ᵗ⁾ = b + W h⁽ᵗ⁻¹⁾ + U x⁽ᵗ⁾,   h⁽ᵗ⁾ = tanh(a⁽ᵗ⁾),   o⁽ᵗ⁾ = c + V h⁽ᵗ⁾ (the head)

The head reads the last step, or the last `target_shape[0]` steps when the target has a time
axis (sequence-to-sequence, e.g. the copy task). Every model writes out its recursion in
`hidden_states(x, probes)`, where `probes[:, t]` (zeros) is added to h⁽ᵗ⁾: the gradient of the
loss with respect to the probes is ∂L/∂h⁽ᵗ⁾ for every t, from one backward pass
(dlrun.analyses.gradients_through_time). Training uses the fused torch modules where the
equations are theirs.
"""

import math

import torch
from torch import Tensor, nn

from dlrun.models.base import DataInfo
from dlrun.models.head import DeepGLM

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a}


class RecurrentGLM(DeepGLM):
    """A recurrent body over x (B, T, F) whose hidden states feed the GLM head."""

    accepts = ("sequence",)
    per_step_targets = True  # data.target_shape: () one target per sequence, (T',) one per step
    recurrent = True

    def __init__(self, body: nn.Module, hidden_size: int, data: DataInfo) -> None:
        assert len(data.input_shape) == 2, data.input_shape  # sequences (T, F)
        super().__init__(body, hidden_size, data)
        self.hidden_size = hidden_size
        self.out_steps = data.target_shape[0] if len(data.target_shape) else None

    def hidden_states(self, x: Tensor, probes: Tensor | None = None) -> Tensor:
        """h⁽¹⁾…h⁽ᵀ⁾ (B, T, H) by the written-out recursion; probes (B, T, H) are added to each."""
        raise NotImplementedError

    def states(self, x: Tensor) -> Tensor:
        """The hidden states for training and prediction (a fused module where one exists)."""
        return self.hidden_states(x)

    def readout(self, states: Tensor) -> Tensor:
        """(B, T, H) -> (B, H) at the last step, or (B, T', H) for sequence targets."""
        return states[:, -1] if self.out_steps is None else states[:, -self.out_steps :]

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.readout(self.states(x)))

    def recurrent_weight(self) -> Tensor | None:
        """The hidden-to-hidden matrix whose spectrum the diagnostics report."""
        return None


def recurrent_init(size: int, init: str, spectral_radius: float) -> Tensor:
    """W with spectral radius ρ: ρ·Q (orthogonal), ρ·I (identity, the IRNN of Le et al. 2015)
    or a Gaussian matrix rescaled to ρ exactly."""
    if init == "orthogonal":
        weight = nn.init.orthogonal_(torch.empty(size, size))
    elif init == "identity":
        weight = torch.eye(size)
    else:
        assert init == "gaussian", init  # the schema's rule: gaussian | orthogonal | identity
        weight = torch.randn(size, size, dtype=torch.float64) / math.sqrt(size)
        weight = (weight / torch.linalg.eigvals(weight).abs().max()).float()
    return spectral_radius * weight


class RNN(RecurrentGLM):
    """The lecture's RNN and its remedies as options:

    leaky units    h⁽ᵗ⁾ = α h⁽ᵗ⁻¹⁾ + (1 − α) h̃⁽ᵗ⁾, α = `leak` (fixed, or learned per unit)
    skip           a⁽ᵗ⁾ gains W_k h⁽ᵗ⁻ᵏ⁾ (k = `skip`)
    remove_one_step  a⁽ᵗ⁾ = b + W h⁽ᵗ⁻ᵏ⁾ + U x⁽ᵗ⁾: the k-step connection replaces the one-step one
    grad_reg       adds λ·Ω, the gradient-norm regulariser of Pascanu, Mikolov & Bengio (2013)
    """

    def __init__(
        self,
        data: DataInfo,
        *,
        hidden_size: int,
        activation: str,
        init: str,
        spectral_radius: float,
        leak: float,
        learn_leak: bool,
        skip: int | None,
        remove_one_step: bool,
        grad_reg: float,
    ) -> None:
        n_inputs = data.input_shape[1]
        # nn.RNN holds W (weight_hh_l0), U (weight_ih_l0) and b (bias_ih_l0), so the fused
        # module runs the same equations; its second bias stays at zero.
        fused = nn.RNN(
            n_inputs,
            hidden_size,
            nonlinearity="relu" if activation == "relu" else "tanh",
            batch_first=True,
        )
        super().__init__(fused, hidden_size, data)
        with torch.no_grad():
            fused.weight_hh_l0.copy_(recurrent_init(hidden_size, init, spectral_radius))
            fused.bias_ih_l0.zero_()
            fused.bias_hh_l0.zero_()
        fused.bias_hh_l0.requires_grad_(False)
        self.activation, self.skip, self.remove_one_step = activation, skip, remove_one_step
        self.grad_reg = grad_reg
        self.skip_weight = None
        if skip is not None and not remove_one_step:
            self.skip_weight = nn.Parameter(recurrent_init(hidden_size, init, spectral_radius))
        self.learn_leak, self.leaky = learn_leak, leak > 0 or learn_leak
        logit = torch.full((hidden_size,), math.log(leak / (1 - leak)) if leak > 0 else -math.inf)
        if learn_leak:  # α = sigmoid(θ) per unit, so that 0 < α < 1 throughout training
            self.leak_logit = nn.Parameter(logit.clamp(min=-10.0))
        else:
            self.register_buffer("leak_logit", logit)
        self.fused = activation != "linear" and leak == 0 and not learn_leak and skip is None

    @property
    def W(self) -> Tensor:  # (H, H): one-step, or k-step when remove_one_step
        return self.body.weight_hh_l0

    @property
    def U(self) -> Tensor:  # (H, F)
        return self.body.weight_ih_l0

    @property
    def b(self) -> Tensor:  # (H,)
        return self.body.bias_ih_l0 + self.body.bias_hh_l0

    def recurrent_weight(self) -> Tensor:
        return self.W

    def step(self, drive: Tensor, previous: Tensor, delayed: Tensor | None) -> Tensor:
        """h⁽ᵗ⁾ from b + U x⁽ᵗ⁾ (`drive`), h⁽ᵗ⁻¹⁾ (`previous`) and h⁽ᵗ⁻ᵏ⁾ (`delayed`)."""
        a = drive  # (B, H)
        if self.skip is None or not self.remove_one_step:
            a = a + previous @ self.W.T
        if delayed is not None:
            a = a + delayed @ (self.W if self.remove_one_step else self.skip_weight).T
        candidate = ACTIVATIONS[self.activation](a)
        if not self.leaky:
            return candidate
        alpha = torch.sigmoid(self.leak_logit)
        return alpha * previous + (1 - alpha) * candidate

    def hidden_states(self, x: Tensor, probes: Tensor | None = None) -> Tensor:
        # unbind once: indexing drive[:, t] would make each step's backward O(T)
        drive = (x @ self.U.T + self.b).unbind(dim=1)  # T × (B, H)
        probe = None if probes is None else probes.unbind(dim=1)
        h = x.new_zeros(x.shape[0], self.hidden_size)
        states: list[Tensor] = []
        for t in range(x.shape[1]):
            delayed = states[t - self.skip] if self.skip is not None and t >= self.skip else None
            h = self.step(drive[t], h, delayed)
            if probe is not None:
                h = h + probe[t]
            states.append(h)
        return torch.stack(states, dim=1)

    def states(self, x: Tensor) -> Tensor:
        return self.body(x)[0] if self.fused else self.hidden_states(x)

    def loss(self, x: Tensor, y: Tensor) -> Tensor:
        """L, plus grad_reg·Ω when grad_reg > 0."""
        if self.grad_reg == 0:
            return super().loss(x, y)
        with torch.enable_grad():  # the line search's trial losses run under no_grad
            probes = x.new_zeros(x.shape[0], x.shape[1], self.hidden_size, requires_grad=True)
            states = self.hidden_states(x, probes)
            loss = self.head.loss(self.head(self.readout(states)), y)
            (upstream,) = torch.autograd.grad(loss, probes, retain_graph=True)
            total = loss + self.grad_reg * self.gradient_norm_penalty(x, states, upstream)
        return total if torch.is_grad_enabled() else total.detach()

    def gradient_norm_penalty(self, x: Tensor, states: Tensor, upstream: Tensor) -> Tensor:
        """Ω = Σ_k (‖∂L/∂h⁽ᵏ⁺¹⁾ ∂h⁽ᵏ⁺¹⁾/∂h⁽ᵏ⁾‖ / ‖∂L/∂h⁽ᵏ⁺¹⁾‖ − 1)², averaged over the batch.

        ∂L/∂h⁽ᵏ⁺¹⁾ (`upstream`) is a constant, as in Pascanu et al. (2013); the one-step
        Jacobians are taken at the states of this forward pass, all steps at once: each step's
        input h⁽ᵏ⁾ becomes a leaf, so one vector-Jacobian product covers every k.
        """
        previous = states[:, :-1].detach().requires_grad_(True)  # h⁽ᵏ⁾, (B, T−1, H)
        drive = (x @ self.U.T + self.b)[:, 1:]
        delayed = None
        if self.skip is not None:
            delayed = torch.zeros_like(previous)
            delayed[:, self.skip - 1 :] = states[:, : -self.skip].detach()
        following = self.step(drive, previous, delayed)  # h⁽ᵏ⁺¹⁾ as a function of h⁽ᵏ⁾
        vector = upstream[:, 1:].detach()
        (product,) = torch.autograd.grad(following, previous, vector, create_graph=True)
        ratio = product.norm(dim=-1) / vector.norm(dim=-1).clamp_min(torch.finfo(x.dtype).tiny)
        return ((ratio - 1) ** 2).sum(dim=1).mean()


class Gated(RecurrentGLM):
    """LSTM or GRU through torch's fused modules (cuDNN on a GPU)."""

    module: type[nn.Module] = nn.LSTM

    def __init__(self, data: DataInfo, *, hidden_size: int, num_layers: int) -> None:
        n_inputs = data.input_shape[1]
        body = self.module(n_inputs, hidden_size, num_layers=num_layers, batch_first=True)
        super().__init__(body, hidden_size, data)

    def states(self, x: Tensor) -> Tensor:
        return self.body(x)[0]

    def hidden_states(self, x: Tensor, probes: Tensor | None = None) -> Tensor:
        """One fused step at a time, so that a probe can be added to each h⁽ᵗ⁾ (the top layer's)."""
        state, outputs = None, []
        probe = None if probes is None else probes.unsqueeze(2).unbind(dim=1)  # T × (B, 1, H)
        for t in range(x.shape[1]):
            output, state = self.body(x[:, t : t + 1], state)
            if probe is not None:
                output = output + probe[t]
                state = self._with_top(state, output[:, 0])
            outputs.append(output)
        return torch.cat(outputs, dim=1)

    @staticmethod
    def _with_top(state, h: Tensor):
        hidden = state[0] if isinstance(state, tuple) else state
        hidden = torch.cat([hidden[:-1], h[None]], dim=0)
        return (hidden, state[1]) if isinstance(state, tuple) else hidden

    def recurrent_weight(self) -> Tensor:
        return self.body.weight_hh_l0  # (gates·H, H), the first layer's


class LSTM(Gated):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), torch.nn.LSTM."""

    module = nn.LSTM

    def __init__(
        self, data: DataInfo, *, hidden_size: int, num_layers: int, forget_bias: float
    ) -> None:
        super().__init__(data, hidden_size=hidden_size, num_layers=num_layers)
        hidden = self.hidden_size
        with torch.no_grad():  # gate order i, f, g, o; a forget bias of 1 (Gers et al. 2000)
            for name, bias in self.body.named_parameters():
                if name.startswith("bias_ih"):
                    bias[hidden : 2 * hidden].fill_(forget_bias)
                elif name.startswith("bias_hh"):
                    bias[hidden : 2 * hidden].zero_()


class GRU(Gated):
    """Gated recurrent unit (Cho et al. 2014), torch.nn.GRU."""

    module = nn.GRU
