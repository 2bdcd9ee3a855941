"""LSTM and GRU with the deep-GLM head, through torch's fused modules (cuDNN on a GPU).

Their written-out steps, `hidden_states(x, probes)` (dlrun.analyses.gradients_through_time),
run the top layer one fused step at a time in each direction with the module's own weights
(torch.func.functional_call on a one-layer template), so that a probe is added to each h⁽ᵗ⁾.
"""

import torch
from torch import Tensor, nn
from torch.func import functional_call

from dlrun.models.base import DataInfo
from dlrun.models.recurrent import RecurrentGLM

WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # one layer's, in torch's names


class LayerStepper:
    """Runs one layer and direction of a fused torch RNN/LSTM/GRU one step at a time, with the
    fused module's own weights (torch.func.functional_call on a one-layer template)."""

    def __init__(self, body: nn.RNNBase) -> None:
        self.body = body
        layers, hidden = body.num_layers, body.hidden_size
        self.directions = 2 if body.bidirectional else 1
        top_inputs = body.input_size if layers == 1 else hidden * self.directions
        kind = type(body)
        options = {"batch_first": True, "device": "meta"}  # meta: no memory, no RNG draws
        if isinstance(body, nn.RNN):
            options["nonlinearity"] = body.nonlinearity
        self.top = kind(top_inputs, hidden, **options)
        self.lower = None
        if layers > 1:
            bidirectional = body.bidirectional
            self.lower = kind(
                body.input_size, hidden, layers - 1, bidirectional=bidirectional, **options
            )

    def below_top(self, x: Tensor) -> Tensor:
        """The output of the layers under the top one (x itself for one layer), fused."""
        if self.lower is None:
            return x
        names = [
            f"{kind}_l{layer}{suffix}"
            for layer in range(self.body.num_layers - 1)
            for suffix in ("", "_reverse")[: self.directions]
            for kind in WEIGHTS
        ]
        weights = {name: getattr(self.body, name) for name in names}
        return functional_call(self.lower, weights, (x,))[0]

    def top_layer(self, inputs: Tensor, direction: int, probes: Tensor | None) -> Tensor:
        """The top layer's states (B, T, H) in one direction (1: over the reversed sequence,
        returned in the sequence's order); probes[:, t] (B, T, H) is added to its h⁽ᵗ⁾."""
        suffix = f"_l{self.body.num_layers - 1}" + ("_reverse" if direction else "")
        weights = {f"{kind}_l0": getattr(self.body, kind + suffix) for kind in WEIGHTS}
        order = range(inputs.shape[1])
        state, outputs = None, []
        for t in reversed(order) if direction else order:
            output, state = functional_call(self.top, weights, (inputs[:, t : t + 1], state))
            if probes is not None:
                output = output + probes[:, t : t + 1]
                h = output.transpose(0, 1)  # (1, B, H), the state's layout
                state = (h, state[1]) if isinstance(state, tuple) else h
            outputs.append(output)
        if direction:
            outputs.reverse()
        return torch.cat(outputs, dim=1)


class Gated(RecurrentGLM):
    """LSTM or GRU through torch's fused modules (cuDNN on a GPU)."""

    module: type[nn.RNNBase] = nn.LSTM

    def __init__(
        self,
        data: DataInfo,
        *,
        hidden_size: int,
        num_layers: int,
        global_pool: str,
        bidirectional: bool,
    ) -> None:
        n_inputs = data.input_shape[1]
        body = self.module(
            n_inputs, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional
        )
        directions = 2 if bidirectional else 1
        super().__init__(body, hidden_size, data, global_pool=global_pool, directions=directions)
        self.stepper = LayerStepper(body)

    def states(self, x: Tensor) -> Tensor:
        return self.body(x)[0]

    def hidden_states(self, x: Tensor, probes: Tensor | None = None) -> Tensor:
        """The top layer's states, one fused step at a time in each direction, so that a probe
        can be added to each h⁽ᵗ⁾ (the layers below run fused: no probe reaches them)."""
        inputs = self.stepper.below_top(x)
        probe = [None] * self.directions if probes is None else probes.chunk(self.directions, -1)
        per_direction = [
            self.stepper.top_layer(inputs, direction, probe[direction])
            for direction in range(self.directions)
        ]
        return torch.cat(per_direction, dim=-1)

    def recurrent_weight(self, direction: int = 0) -> Tensor:
        # (gates·H, H), the first layer's
        return self.body.weight_hh_l0_reverse if direction else self.body.weight_hh_l0


class LSTM(Gated):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), torch.nn.LSTM."""

    module = nn.LSTM

    def __init__(
        self,
        data: DataInfo,
        *,
        hidden_size: int,
        num_layers: int,
        global_pool: str,
        bidirectional: bool,
        forget_bias: float,
    ) -> None:
        super().__init__(
            data,
            hidden_size=hidden_size,
            num_layers=num_layers,
            global_pool=global_pool,
            bidirectional=bidirectional,
        )
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
