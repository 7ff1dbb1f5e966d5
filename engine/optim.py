"""Optimizers that update parameter arrays in place: SGD (with momentum, Nesterov), Adagrad,
RMSprop and Adam, with PyTorch's update rules and defaults.

The contract, shared by every optimizer:

* ``opt = Adam(params)`` keeps a reference to each array in ``params`` (any shapes);
  ``opt.step(grads)`` takes one gradient per parameter, same order and shapes, and changes the
  parameter arrays in place (``p -= ...``), so a layer holding them sees the new values.
* What a lab shows is kept after every step: ``opt.t`` (steps taken), ``opt.state[i]`` (a dict of
  arrays for parameter ``i``: ``"velocity"``, ``"sum_sq"``, ``"square_avg"``, ``"m"``, ``"v"``,
  ``"m_hat"``, ``"v_hat"`` depending on the rule), ``opt.last_update[i]`` (the change just added
  to parameter ``i``) and ``opt.effective_lr[i]`` (the per-coordinate learning rate, see below).
* ``opt.lr`` can be changed between steps (a schedule does this); ``zero_state()`` (or
  ``reset()``) forgets everything learned about the gradients.

``effective_lr`` is defined so that ``last_update == -effective_lr * direction``, where the
direction is the gradient for SGD, Adagrad and RMSprop without momentum, the momentum buffer for
SGD with momentum and ``m_hat`` for Adam. It is all zeros before the first step.

Weight decay (all optimizers) is PyTorch's L2 form: ``g = g + weight_decay * p`` before the rule.
Gradients that are NaN or infinite are applied as they are, without a warning: the trainer
notices the divergence and reports it.

Each formula is written the way PyTorch evaluates it (``torch/optim/*.py``, single-tensor path),
so trajectories agree with ``torch.optim`` to float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["OPTIMIZERS", "SGD", "Adagrad", "Adam", "Optimizer", "RMSprop", "make_optimizer"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{what} must be a number (got {value!r}).")
    return float(value)


def _positive(value, what: str) -> float:
    v = _number(value, what)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{what} must be a finite number > 0 (got {value}).")
    return v


def _non_negative(value, what: str) -> float:
    v = _number(value, what)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{what} must be a finite number ≥ 0 (got {value}).")
    return v


def _unit(value, what: str) -> float:
    """A decay factor in [0, 1): 1 would never forget, so it is refused."""
    v = _number(value, what)
    if not 0 <= v < 1:  # also rejects NaN
        raise ValueError(f"{what} must be a number from 0 up to (not including) 1 (got {value}).")
    return v


class Optimizer:
    """Base class: keeps the parameters, checks gradients and holds the visible state.

    Subclasses implement ``_update(i, p, g) -> (update, effective_lr)`` for one parameter,
    where ``g`` already includes weight decay; the base class adds ``update`` to ``p`` in place.
    ``last_update``, ``effective_lr`` and the state may be rewritten in place by the next step
    (Adam's are): copy what is to be kept.
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float, weight_decay: float = 0.0):
        if isinstance(params, np.ndarray) or not isinstance(params, list | tuple):
            raise ValueError("Parameters must be given as a list of NumPy arrays.")
        if not params:
            raise ValueError("The optimizer needs at least one parameter array.")
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise ValueError(
                    f"Parameter {i} must be a NumPy array of floats (got {type(p).__name__}"
                    f"{'' if not isinstance(p, np.ndarray) else ' of ' + str(p.dtype)})."
                )
            if not p.flags.writeable:
                raise ValueError(f"Parameter {i} is read-only, so it cannot be updated in place.")
        self.params: list[np.ndarray] = list(params)
        self.lr = lr
        self.weight_decay = _non_negative(weight_decay, "Weight decay")
        self.zero_state()

    @property
    def lr(self) -> float:
        """The base learning rate; a schedule may set it before each step."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _positive(value, "Learning rate")

    def zero_state(self) -> None:
        """Forget every running average and restart the step counter at 0."""
        self.t = 0
        self.state: list[dict[str, np.ndarray]] = [self._init_state(p) for p in self.params]
        self.last_update: list[np.ndarray] = [np.zeros_like(p) for p in self.params]
        self.effective_lr: list[np.ndarray] = [np.zeros_like(p) for p in self.params]

    reset = zero_state

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {}

    def _check_grads(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        if isinstance(grads, np.ndarray) or not isinstance(grads, list | tuple):
            raise ValueError("Gradients must be given as a list of NumPy arrays.")
        if len(grads) != len(self.params):
            raise ValueError(
                f"Got {len(grads)} gradients for {len(self.params)} parameters: "
                "give one gradient per parameter, in the same order."
            )
        out = []
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(
                    f"The gradient for parameter {i} has shape {g.shape}, "
                    f"but the parameter has shape {p.shape}."
                )
            if not (np.issubdtype(g.dtype, np.floating) or np.issubdtype(g.dtype, np.integer)):
                raise ValueError(f"The gradient for parameter {i} must hold numbers.")
            out.append(g.astype(p.dtype, copy=False))
        return out

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Apply one update to every parameter, in place. ``grads[i]`` has ``params[i].shape``."""
        grads = self._check_grads(grads)
        self.t += 1
        # Diverging runs produce inf/NaN: let them through quietly, the trainer reports it.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
                if self.weight_decay != 0:
                    g = g + self.weight_decay * p  # a new array: the caller's gradient is kept
                update, eff = self._update(i, p, g)
                p += update
                self.last_update[i] = update
                self.effective_lr[i] = eff

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, t={self.t})"


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum — ``torch.optim.SGD``, dampening 0.

    Without momentum: ``p -= lr * g``. With momentum: ``buf = momentum * buf + g`` (the first step
    sets ``buf = g``) and ``p -= lr * buf``; Nesterov looks ahead: ``p -= lr * (g + momentum *
    buf)``. ``state[i]["velocity"]`` is ``buf`` (only when momentum > 0).
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        self.momentum = _unit(momentum, "Momentum")
        if nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum needs a momentum above 0 (got 0).")
        self.nesterov = bool(nesterov)
        super().__init__(params, lr, weight_decay)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {"velocity": np.zeros_like(p)} if self.momentum else {}

    def _update(self, i, p, g):
        if self.momentum:
            state = self.state[i]
            if self.t == 1:
                state["velocity"] = g.copy()
            else:
                buf = state["velocity"]
                buf *= self.momentum
                buf += g
            buf = state["velocity"]
            direction = g + self.momentum * buf if self.nesterov else buf
        else:
            direction = g
        return -self.lr * direction, np.full_like(p, self.lr)


class Adagrad(Optimizer):
    """Per-coordinate rates that shrink as squared gradients add up — ``torch.optim.Adagrad``.

    ``sum_sq += g²``; ``p -= clr * g / (sqrt(sum_sq) + eps)`` with ``clr = lr / (1 + (t-1) *
    lr_decay)``.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 0.01,
        eps: float = 1e-10,
        lr_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        weight_decay: float = 0.0,
    ):
        self.eps = _positive(eps, "Epsilon")
        self.lr_decay = _non_negative(lr_decay, "The learning-rate decay")
        self.initial_accumulator_value = _non_negative(
            initial_accumulator_value, "The initial accumulator value"
        )
        super().__init__(params, lr, weight_decay)

    def _init_state(self, p):
        return {"sum_sq": np.full_like(p, self.initial_accumulator_value)}

    def _update(self, i, p, g):
        sum_sq = self.state[i]["sum_sq"]
        sum_sq += g * g
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        std = np.sqrt(sum_sq) + self.eps
        return (-clr * g) / std, clr / std


class RMSprop(Optimizer):
    """Adagrad with a leaky average of squared gradients — ``torch.optim.RMSprop``, not centered.

    ``square_avg = alpha * square_avg + (1 - alpha) * g²``; ``p -= lr * g / (sqrt(square_avg) +
    eps)``. With momentum > 0: ``velocity = momentum * velocity + g / (sqrt(square_avg) + eps)``
    and ``p -= lr * velocity``.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        self.alpha = _unit(alpha, "Alpha (the averaging factor)")
        self.eps = _positive(eps, "Epsilon")
        self.momentum = _unit(momentum, "Momentum")
        super().__init__(params, lr, weight_decay)

    def _init_state(self, p):
        state = {"square_avg": np.zeros_like(p)}
        if self.momentum:
            state["velocity"] = np.zeros_like(p)
        return state

    def _update(self, i, p, g):
        state = self.state[i]
        sq = state["square_avg"]
        sq *= self.alpha
        sq += (1 - self.alpha) * g * g
        avg = np.sqrt(sq) + self.eps
        if self.momentum:
            buf = state["velocity"]
            buf *= self.momentum
            buf += g / avg
            # The step is lr * velocity, which mixes old gradients: no single per-coordinate rate
            # multiplies the velocity except lr itself.
            return -self.lr * buf, np.full_like(p, self.lr)
        return (-self.lr * g) / avg, self.lr / avg


class Adam(Optimizer):
    """Momentum plus RMSprop-style scaling, with bias correction — ``torch.optim.Adam``.

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g²``, ``m_hat = m / (1-b1^t)``,
    ``v_hat = v / (1-b2^t)``, ``p -= lr * m_hat / (sqrt(v_hat) + eps)``. With
    ``bias_correction=False`` (for teaching: see the slow start) ``m_hat = m`` and ``v_hat = v``.

    Evaluated as PyTorch does: ``denom = sqrt(v) / sqrt(1-b2^t) + eps``,
    ``p -= (lr / (1-b1^t)) * m / denom``.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        bias_correction: bool = True,
        weight_decay: float = 0.0,
    ):
        if not isinstance(betas, list | tuple) or len(betas) != 2:
            raise ValueError(f"Betas must be a pair of numbers like (0.9, 0.999) (got {betas!r}).")
        self.betas = (_unit(betas[0], "Beta1"), _unit(betas[1], "Beta2"))
        self.eps = _positive(eps, "Epsilon")
        self.bias_correction = bool(bias_correction)
        super().__init__(params, lr, weight_decay)

    def _init_state(self, p):
        return {k: np.zeros_like(p) for k in ("m", "v", "m_hat", "v_hat")}

    def zero_state(self) -> None:
        """As the base class; parameters of one dtype get their state as views of flat arrays,
        so that a step is a dozen whole-array operations instead of a dozen per parameter."""
        super().zero_state()
        self._flat: dict[str, np.ndarray] | None = None
        if len({p.dtype for p in self.params}) != 1:
            return
        dtype, total = self.params[0].dtype, sum(p.size for p in self.params)
        flat = {k: np.zeros(total, dtype) for k in ("m", "v", "m_hat", "v_hat", "update", "eff")}
        flat["g"] = np.empty(total, dtype)

        def views(a: np.ndarray) -> list[np.ndarray]:
            ends = np.cumsum([p.size for p in self.params])
            pairs = zip(self.params, ends, strict=True)
            return [a[end - p.size : end].reshape(p.shape) for p, end in pairs]

        for key in ("m", "v", "m_hat", "v_hat"):
            for state, view in zip(self.state, views(flat[key]), strict=True):
                state[key] = view
        self.last_update, self.effective_lr = views(flat["update"]), views(flat["eff"])
        self._flat = flat

    reset = zero_state

    def step(self, grads: Sequence[np.ndarray]) -> None:
        if self._flat is None:  # parameters of mixed dtypes: one at a time
            super().step(grads)
            return
        grads = self._check_grads(grads)
        self.t += 1
        flat = self._flat
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            np.concatenate([g.reshape(-1) for g in grads], out=flat["g"])
            if self.weight_decay != 0:  # g + weight_decay * p, as the base class
                np.concatenate([p.reshape(-1) for p in self.params], out=flat["update"])
                flat["update"] *= self.weight_decay
                flat["g"] += flat["update"]
            self._moments(flat["m"], flat["v"], flat["m_hat"], flat["v_hat"], flat["g"],
                          flat["update"], flat["eff"])  # fmt: skip
            for p, update in zip(self.params, self.last_update, strict=True):
                p += update

    def _update(self, i, p, g):
        state = self.state[i]
        update, eff = self.last_update[i], self.effective_lr[i]
        self._moments(state["m"], state["v"], state["m_hat"], state["v_hat"], g, update, eff)
        return update, eff

    def _moments(self, m, v, m_hat, v_hat, g, update, eff) -> None:
        """One Adam update, in place: m, v and their corrected copies, the update and the
        effective rate. Temporaries would cost more than the arithmetic, so everything is
        written into the arrays given; each line rounds as the expression in its comment."""
        b1, b2 = self.betas
        np.subtract(g, m, out=update)
        update *= 1 - b1
        m += update  # m += (1-b1)*(g - m): b1*m + (1-b1)*g, written as PyTorch's lerp
        v *= b2
        np.multiply(g, 1 - b2, out=update)
        update *= g
        v += update  # v += (1-b2)*g*g
        if self.bias_correction:
            bc1, bc2 = 1 - b1**self.t, 1 - b2**self.t
        else:
            bc1 = bc2 = 1.0
        denom = np.sqrt(v, out=eff)
        denom /= bc2**0.5
        denom += self.eps  # = sqrt(v) / sqrt(bc2) + eps = sqrt(v_hat) + eps
        np.divide(m, bc1, out=m_hat)
        np.divide(v, bc2, out=v_hat)
        np.multiply(m, -(self.lr / bc1), out=update)
        update /= denom  # (-(lr/bc1) * m) / denom
        np.divide(self.lr, denom, out=eff)  # lr / denom, denom's last use


def make_optimizer(name: str, params: Sequence[np.ndarray], lr: float, **kw) -> Optimizer:
    """Build an optimizer by name: one of :data:`OPTIMIZERS`.

    ``"momentum"`` is SGD with momentum 0.9 and ``"nesterov"`` the same with Nesterov's look-ahead
    (pass ``momentum=`` to change it); the other names take their class's keyword arguments.
    """
    classes = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam}
    key = name.strip().lower() if isinstance(name, str) else name
    if key in ("momentum", "nesterov"):
        kw.setdefault("momentum", 0.9)
        if key == "nesterov":
            kw["nesterov"] = True
        key = "sgd"
    if key not in classes:
        raise ValueError(f"Unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}.")
    try:
        return classes[key](params, lr, **kw)
    except TypeError as exc:  # an unexpected keyword: say which in plain words
        raise ValueError(f"The {name} optimizer does not accept these settings: {exc}.") from None
