"""Recurrent networks with the deep-GLM head: the lecture's RNN and its remedies (LSTM, GRU:
dlrun.models.gated).

    a⁽ᵗ⁾ = b + W h⁽ᵗ⁻¹⁾ + U x⁽ᵗ⁾,   h⁽ᵗ⁾ = tanh(a⁽ᵗ⁾),   o⁽ᵗ⁾ = c + V h⁽ᵗ⁾ (the head)

The head reads what `global_pool` says of the states h⁽¹⁾…h⁽ᵀ⁾: the last step (`last`), their
mean or maximum over time (`avg`, `max`), or all of them side by side (`none`, T·H features);
with a target at each step (sequence-to-sequence, e.g. the copy task) it reads each of the last
`target_shape[0]` steps. `bidirectional` models run a second recursion with its own weights over
the reversed sequence; each step's state is then [forward h⁽ᵗ⁾; backward h⁽ᵗ⁾] (2H), and `last`
reads the final state of each direction, [forward h⁽ᵀ⁾; backward h⁽¹⁾].

Every model writes out its recursion in `hidden_states(x, probes)`, where `probes[:, t]` (zeros,
2H wide when bidirectional) is added to h⁽ᵗ⁾ of each direction: the gradient of the loss with
respect to the probes is ∂L/∂h⁽ᵗ⁾ for every t and direction, from one backward pass
(dlrun.analyses.gradients_through_time). Training uses the fused torch modules where the
equations are theirs.
"""

import math

import torch
from torch import Tensor, nn

from dlrun.models.base import DataInfo
from dlrun.models.head import DeepGLM
from dlrun.models.time_readout import check_pool, read_over_time, readout_width

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a}


class RecurrentGLM(DeepGLM):
    """A recurrent body over x (B, T, F) whose hidden states feed the GLM head."""

    accepts = ("sequence",)
    per_step_targets = True  # data.target_shape: () one target per sequence, (T',) one per step
    recurrent = True

    def __init__(
        self,
        body: nn.Module,
        hidden_size: int,
        data: DataInfo,
        *,
        global_pool: str = "last",  # the ESN's readout: h⁽ᵀ⁾ of its one direction
        directions: int = 1,
    ) -> None:
        assert len(data.input_shape) == 2, data.input_shape  # sequences (T, F)
        self.out_steps = data.target_shape[0] if len(data.target_shape) else None
        check_pool(global_pool, self.out_steps)
        width = readout_width(global_pool, hidden_size * directions, data.input_shape[0])
        super().__init__(body, width, data)
        self.hidden_size, self.directions, self.global_pool = hidden_size, directions, global_pool

    @property
    def state_size(self) -> int:
        """The width of one step's state: H, or 2H when bidirectional."""
        return self.hidden_size * self.directions

    def hidden_states(self, x: Tensor, probes: Tensor | None = None) -> Tensor:
        """h⁽¹⁾…h⁽ᵀ⁾ (B, T, D) by the written-out recursion; probes (B, T, D) are added to each."""
        raise NotImplementedError

    def states(self, x: Tensor) -> Tensor:
        """The hidden states for training and prediction (a fused module where one exists)."""
        return self.hidden_states(x)

    def readout(self, states: Tensor) -> Tensor:
        """(B, T, D) -> what the head reads: (B, features), or (B, T', D) for sequence targets."""
        if self.out_steps is not None:
            return states[:, -self.out_steps :]
        return read_over_time(states, self.global_pool, self.directions)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.readout(self.states(x)))

    def recurrent_weight(self, direction: int = 0) -> Tensor | None:
        """The hidden-to-hidden matrix of a direction (0 forward, 1 backward) whose spectrum
        the diagnostics report."""
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
        global_pool: str,
        bidirectional: bool,
    ) -> None:
        n_inputs = data.input_shape[1]
        # nn.RNN holds W (weight_hh_l0), U (weight_ih_l0) and b (bias_ih_l0), so the fused
        # module runs the same equations; its second bias stays at zero. Bidirectional: the
        # backward recursion's are weight_hh_l0_reverse, ... (the schema allows it without
        # leak, skip and grad_reg only, whose extra weights are the forward recursion's).
        fused = nn.RNN(
            n_inputs,
            hidden_size,
            nonlinearity="relu" if activation == "relu" else "tanh",
            batch_first=True,
            bidirectional=bidirectional,
        )
        directions = 2 if bidirectional else 1
        super().__init__(fused, hidden_size, data, global_pool=global_pool, directions=directions)
        with torch.no_grad():
            for suffix in ("", "_reverse")[:directions]:
                weight = getattr(fused, f"weight_hh_l0{suffix}")
                weight.copy_(recurrent_init(hidden_size, init, spectral_radius))
                getattr(fused, f"bias_ih_l0{suffix}").zero_()
                getattr(fused, f"bias_hh_l0{suffix}").zero_().requires_grad_(False)
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

    def weights(self, direction: int) -> tuple[Tensor, Tensor, Tensor]:
        """(W, U, b) of the forward (0) or backward (1) recursion."""
        suffix = "_l0_reverse" if direction else "_l0"
        body = self.body
        bias = getattr(body, "bias_ih" + suffix) + getattr(body, "bias_hh" + suffix)
        return getattr(body, "weight_hh" + suffix), getattr(body, "weight_ih" + suffix), bias

    def recurrent_weight(self, direction: int = 0) -> Tensor:
        return self.weights(direction)[0]

    def step(self, drive: Tensor, previous: Tensor, delayed: Tensor | None, W: Tensor) -> Tensor:
        """h⁽ᵗ⁾ from b + U x⁽ᵗ⁾ (`drive`), h⁽ᵗ⁻¹⁾ (`previous`), h⁽ᵗ⁻ᵏ⁾ (`delayed`) and W."""
        a = drive  # (B, H)
        if self.skip is None or not self.remove_one_step:
            a = a + previous @ W.T
        if delayed is not None:
            a = a + delayed @ (W if self.remove_one_step else self.skip_weight).T
        candidate = ACTIVATIONS[self.activation](a)
        if not self.leaky:
            return candidate
        alpha = torch.sigmoid(self.leak_logit)
        return alpha * previous + (1 - alpha) * candidate

    def hidden_states(self, x: Tensor, probes: Tensor | None = None) -> Tensor:
        probe = [None] * self.directions if probes is None else probes.chunk(self.directions, -1)
        # the backward recursion is the forward one over the reversed sequence, reversed back
        forward = self.recursion(x, probe[0], *self.weights(0))
        if self.directions == 1:
            return forward
        backward = self.recursion(x.flip(1), _flipped(probe[1]), *self.weights(1)).flip(1)
        return torch.cat([forward, backward], dim=-1)  # (B, T, 2H)

    def recursion(
        self, x: Tensor, probes: Tensor | None, W: Tensor, U: Tensor, b: Tensor
    ) -> Tensor:
        """h⁽¹⁾…h⁽ᵀ⁾ (B, T, H) of one direction's weights; probes[:, t] is added to h⁽ᵗ⁾."""
        # unbind once: indexing drive[:, t] would make each step's backward O(T)
        drive = (x @ U.T + b).unbind(dim=1)  # T × (B, H)
        probe = None if probes is None else probes.unbind(dim=1)
        h = x.new_zeros(x.shape[0], self.hidden_size)
        states: list[Tensor] = []
        for t in range(x.shape[1]):
            delayed = states[t - self.skip] if self.skip is not None and t >= self.skip else None
            h = self.step(drive[t], h, delayed, W)
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
            # the schema allows grad_reg with one direction only: states (B, T, H)
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
        following = self.step(drive, previous, delayed, self.W)  # h⁽ᵏ⁺¹⁾ from h⁽ᵏ⁾
        vector = upstream[:, 1:].detach()
        (product,) = torch.autograd.grad(following, previous, vector, create_graph=True)
        ratio = product.norm(dim=-1) / vector.norm(dim=-1).clamp_min(torch.finfo(x.dtype).tiny)
        return ((ratio - 1) ** 2).sum(dim=1).mean()


def _flipped(probes: Tensor | None) -> Tensor | None:
    return None if probes is None else probes.flip(1)
