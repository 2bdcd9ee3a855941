"""The MLP in numpy alone, backpropagation written out as the lecture's matrix equations.

Column layout (one example per column, m examples):
    Z⁽ˡ⁾ = W⁽ˡ⁾A⁽ˡ⁻¹⁾ + b⁽ˡ⁾,  A⁽ˡ⁾ = g(Z⁽ˡ⁾),  A⁽⁰⁾ = Xᵀ,  η = Z⁽ᴸ⁾
    dZ⁽ᴸ⁾ = A⁽ᴸ⁾ − Y                      (the GLM head that matches the loss)
    dW⁽ˡ⁾ = (1/m) dZ⁽ˡ⁾A⁽ˡ⁻¹⁾ᵀ,  db⁽ˡ⁾ = (1/m) Σ dZ⁽ˡ⁾ (over the batch axis, keepdims)
    dZ⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀdZ⁽ˡ⁾ ∗ g′(Z⁽ˡ⁻¹⁾)
dlrun's losses are means (dlrun.tasks); the squared loss is mean (η − y)², not ½(η − y)², so its
head gives dZ⁽ᴸ⁾ = 2(A⁽ᴸ⁾ − Y). Each layer's backward sits beside its forward (as in micrograd).

`MLPNumpy` wraps this network as a DeepGLM for the `dlrun` command: its parameters are torch
tensors whose memory the numpy arrays share, and its loss and forward are autograd Functions
that call the numpy forward and backward, so dlrun's loop, optimizers and run record apply.
"""

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import Tensor

from dlrun.errors import InputError
from dlrun.models.base import DataInfo
from dlrun.models.mlp import MLP

# ------------------------------------------------------------------ layers


class Linear:
    """Z = W A_prev + b with W (n_out, n_in), b (n_out, 1), A_prev (n_in, m)."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W, b

    def forward(self, A_prev: np.ndarray) -> np.ndarray:
        self.A_prev = A_prev
        return self.W @ A_prev + self.b  # (n_out, m)

    def backward(self, dZ: np.ndarray) -> np.ndarray:
        """Store dW, db; return Wᵀ dZ (the gradient for A_prev, per example)."""
        m = dZ.shape[1]
        self.dW = dZ @ self.A_prev.T / m  # (n_out, n_in)
        self.db = dZ.sum(axis=1, keepdims=True) / m  # (n_out, 1)
        return self.W.T @ dZ  # (n_in, m)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * Z))  # σ(z) without overflow in exp(−z)


class Activation:
    """A = g(Z) elementwise; backward multiplies by g′(Z)."""

    def __init__(self, name: str) -> None:
        assert name in ("sigmoid", "tanh", "relu"), name  # the schema's Activation
        self.name = name

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.Z = Z
        if self.name == "sigmoid":
            self.A = sigmoid(Z)
        elif self.name == "tanh":
            self.A = np.tanh(Z)
        else:
            self.A = np.maximum(Z, 0)
        return self.A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        if self.name == "sigmoid":
            return dA * self.A * (1 - self.A)
        if self.name == "tanh":
            return dA * (1 - self.A**2)
        return dA * (self.Z > 0)


class Head:
    """The GLM head of a task: transfer t, mean loss, and dZ⁽ᴸ⁾ = c·(t(Z⁽ᴸ⁾) − Y).

    Y is (1, m) for regression, binary and count, one-hot (K, m) for multiclass.
    """

    def __init__(self, task: str) -> None:
        assert task in ("regression", "binary", "count", "multiclass"), task  # dlrun.tasks.TASKS
        self.task = task

    def transfer(self, Z: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return Z
        if self.task == "binary":
            return sigmoid(Z)
        if self.task == "count":
            return np.exp(Z)
        shifted = np.exp(Z - Z.max(axis=0, keepdims=True))
        return shifted / shifted.sum(axis=0, keepdims=True)

    def loss(self, Z: np.ndarray, Y: np.ndarray) -> float:
        """The mean over examples of squared error, cross-entropy or Poisson NLL (dlrun.tasks)."""
        if self.task == "regression":
            per_example = (Z - Y) ** 2
        elif self.task == "binary":
            per_example = np.logaddexp(0, Z) - Y * Z  # −y log σ(z) − (1 − y) log(1 − σ(z))
        elif self.task == "count":
            per_example = np.exp(Z) - Y * Z  # Poisson NLL without log(y!)
        else:
            top = Z.max(axis=0, keepdims=True)
            log_normaliser = top + np.log(np.exp(Z - top).sum(axis=0, keepdims=True))
            per_example = log_normaliser - (Y * Z).sum(axis=0, keepdims=True)
        return float(per_example.sum() / Z.shape[1])

    def backward(self, Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """dZ⁽ᴸ⁾, per example: A⁽ᴸ⁾ − Y (twice that for the mean squared error)."""
        scale = 2.0 if self.task == "regression" else 1.0
        return scale * (self.transfer(Z) - Y)


def targets(task: str, y: np.ndarray, n_outputs: int, dtype=np.float64) -> np.ndarray:
    """Y in column layout: (1, m) values, or one-hot (K, m) for multiclass class indices.

    `dtype` is the network's: a float64 Y against float32 weights would send every matmul of
    the backward pass down numpy's slow mixed-type path.
    """
    if task != "multiclass":
        return y.reshape(1, -1).astype(dtype, copy=False)
    Y = np.zeros((n_outputs, len(y)), dtype=dtype)
    Y[y.astype(np.int64), np.arange(len(y))] = 1.0
    return Y


# ------------------------------------------------------------------ network


class NumpyMLP:
    """L linear layers with activation g between them and a GLM head; numpy only.

    `weights[l]` (n_l, n_{l−1}) and `biases[l]` (n_l, 1) are used in place, not copied.
    """

    def __init__(
        self, weights: list[np.ndarray], biases: list[np.ndarray], activation: str, task: str
    ) -> None:
        assert len(weights) == len(biases) >= 1
        self.linears = [Linear(W, b) for W, b in zip(weights, biases, strict=True)]
        self.activations = [Activation(activation) for _ in weights[:-1]]
        self.head = Head(task)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """η = Z⁽ᴸ⁾ (n_L, m) for the columns of X (n_0, m); keeps what backward needs."""
        A = X
        for linear, activation in zip(self.linears[:-1], self.activations, strict=True):
            A = activation.forward(linear.forward(A))
        return self.linears[-1].forward(A)

    def backward(self, dZ: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """From dZ⁽ᴸ⁾ (per example) back to the input: [(dW⁽ˡ⁾, db⁽ˡ⁾) for l = 1..L]."""
        dA = self.linears[-1].backward(dZ)
        for linear, activation in zip(
            reversed(self.linears[:-1]), reversed(self.activations), strict=True
        ):
            dA = linear.backward(activation.backward(dA))
        return [(linear.dW, linear.db) for linear in self.linears]

    def loss_and_gradients(self, X: np.ndarray, Y: np.ndarray):
        """The mean loss and [(dW, db)] of each layer for columns X and targets Y."""
        Z = self.forward(X)
        return self.head.loss(Z, Y), self.backward(self.head.backward(Z, Y))


# ------------------------------------------------------------------ torch bridge


def numpy_view(tensor: Tensor) -> np.ndarray:
    """The tensor's memory as a numpy array (no copy; CPU only)."""
    return tensor.detach().numpy()


class NumpyLoss(torch.autograd.Function):
    """The mean loss by the numpy forward; its gradients by the lecture's backward."""

    @staticmethod
    def forward(ctx, model: "MLPNumpy", x: Tensor, y: Tensor, *params: Tensor) -> Tensor:
        net = model.numpy_network()
        X = numpy_view(x).reshape(len(x), -1).T  # (n_0, m)
        W = net.linears[-1].W
        Y = targets(model.task, numpy_view(y), W.shape[0], W.dtype)
        Z = net.forward(X)
        ctx.net, ctx.Z, ctx.Y = net, Z, Y
        return x.new_tensor(net.head.loss(Z, Y))

    @staticmethod
    def backward(ctx, grad_loss: Tensor):
        gradients = ctx.net.backward(ctx.net.head.backward(ctx.Z, ctx.Y))
        scale = float(grad_loss)
        return None, None, None, *MLPNumpy.as_parameter_grads(gradients, scale, grad_loss)


class NumpyForward(torch.autograd.Function):
    """η by the numpy forward; backward takes any upstream ∂L/∂η (so torch losses also work)."""

    @staticmethod
    def forward(ctx, model: "MLPNumpy", x: Tensor, *params: Tensor) -> Tensor:
        net = model.numpy_network()
        Z = net.forward(numpy_view(x).reshape(len(x), -1).T)  # (n_L, m)
        ctx.net = net
        eta = torch.from_numpy(np.ascontiguousarray(Z.T)).to(x.dtype)  # (m, n_L)
        return eta if model.task == "multiclass" else eta.squeeze(-1)

    @staticmethod
    def backward(ctx, grad_eta: Tensor):
        m = grad_eta.shape[0]
        # the lecture's dZ is per example: dW = (1/m) dZ Aᵀ, so dZ = m · ∂L/∂η
        dZ = m * numpy_view(grad_eta).reshape(m, -1).T
        gradients = ctx.net.backward(dZ)
        return None, None, *MLPNumpy.as_parameter_grads(gradients, 1.0, grad_eta)


_blas_threads: list[int] = []  # the thread count numpy's BLAS was last limited to


def match_blas_threads() -> None:
    """Give numpy's BLAS torch's intra-op thread count (dlrun's `threads`), as torch gets it.

    Left alone, OpenBLAS starts a thread per core; on a busy machine those threads wait on each
    other and a small matmul takes 50× longer (benchmarks/mlp_numpy.py).
    """
    threads = torch.get_num_threads()
    if _blas_threads != [threads]:
        threadpool_limits(limits=threads, user_api="blas")
        _blas_threads[:] = [threads]


class MLPNumpy(MLP):
    """model=mlp_numpy: the same MLP as `mlp` (same parameters and state_dict keys), computed
    in numpy with hand-written backpropagation. CPU only; first derivatives only."""

    second_derivatives = False  # the numpy backward has no double backward (no Hessian)
    cpu_only = True  # numpy computes on the CPU

    def __init__(self, data: DataInfo, *, hidden: list[int], activation: str, init: str) -> None:
        super().__init__(data, hidden=hidden, activation=activation, init=init)
        self.activation = activation

    def layers(self) -> list[torch.nn.Linear]:
        return [m for m in self.body if isinstance(m, torch.nn.Linear)] + [self.head.linear]

    def ordered_parameters(self) -> list[Tensor]:
        """W⁽¹⁾, b⁽¹⁾, …, W⁽ᴸ⁾, b⁽ᴸ⁾: the order of the numpy gradients."""
        return [p for layer in self.layers() for p in (layer.weight, layer.bias)]

    def numpy_network(self) -> NumpyMLP:
        """A NumpyMLP over this module's parameters (shared memory: updates show in both)."""
        match_blas_threads()
        for p in self.ordered_parameters():
            if p.device.type != "cpu":
                raise InputError("model=mlp_numpy computes in numpy on the CPU: use device=cpu")
        weights = [numpy_view(layer.weight) for layer in self.layers()]
        biases = [numpy_view(layer.bias)[:, None] for layer in self.layers()]
        return NumpyMLP(weights, biases, self.activation, self.task)

    @staticmethod
    def as_parameter_grads(gradients, scale: float, like: Tensor) -> list[Tensor]:
        grads = []
        for dW, db in gradients:
            grads.append(torch.from_numpy(scale * dW).to(like.dtype))
            grads.append(torch.from_numpy(scale * db[:, 0]).to(like.dtype))
        return grads

    def forward(self, x: Tensor) -> Tensor:
        return NumpyForward.apply(self, x, *self.ordered_parameters())

    def loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The mean training loss; its backward is the lecture's dZ⁽ᴸ⁾ = A⁽ᴸ⁾ − Y recursion."""
        return NumpyLoss.apply(self, x, y, *self.ordered_parameters())
