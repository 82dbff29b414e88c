"""torch.optim-style optimizers over optax transformations."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array

from .._closures import SplitClosure, modules_used_by, split_closure
from ..imperative import in_pure_scope, pure_scope
from ..nn.module import Module, Parameter, bind_parameters
from ..nn.time_loop import run_captured
from ..random import key_scope, next_key


def _clipped(inner: optax.GradientTransformation, max_grad_norm: float | None) -> optax.GradientTransformation:
    """``inner`` applied to gradients clipped to ``max_grad_norm`` (global norm), with ``inner``'s own state.

    Keeping the state unchanged keeps ``state.hyperparams`` (the injected learning rate)
    and checkpoints as they are; wrapped in ``optax.MultiSteps``, it clips the
    accumulated gradient rather than each micro-batch's.
    """
    if max_grad_norm is None:
        return inner
    clip = optax.clip_by_global_norm(max_grad_norm)

    def update(grads: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        clipped, _ = clip.update(grads, optax.EmptyState())
        return inner.update(clipped, state, params)

    return optax.GradientTransformation(inner.init, update)


def _checked_number(optimizer: str, name: str, value: Any) -> float:
    """``value`` as a float, or a clear error: a hyper-parameter must be a finite number, ``>= 0``.

    A NaN or infinite learning rate would turn every weight into NaN at the first step.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        if not (hasattr(value, "shape") and tuple(value.shape) == ()):
            raise TypeError(f"{optimizer}: {name} must be a number, got {value!r} ({type(value).__name__}).")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{optimizer}: {name} must be a finite number >= 0, got {number}.")
    if name in _BELOW_ONE and number >= 1:
        raise ValueError(f"{optimizer}: {_BELOW_ONE[name]} must lie in [0, 1), got {number}.")
    if name in _AT_MOST_ONE and number > 1:
        raise ValueError(f"{optimizer}: {name} must lie in [0, 1], got {number}.")
    return number


# Hyper-parameters that are decay rates, by their optax name, with the name torch users know.
_BELOW_ONE = {"b1": "betas[0]", "b2": "betas[1]"}
# RMSprop's ``alpha`` weighs the old average: above 1, ``(1 - alpha) g^2`` turns the
# average negative and its square root NaN at the first step.
_AT_MOST_ONE = ("alpha",)


def _betas(optimizer: str, betas: Any) -> tuple[Any, Any]:
    """``betas`` as a pair ``(beta1, beta2)``, or a clear error (each value is checked later)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or not hasattr(betas, "__getitem__"):
        raise TypeError(f"{optimizer}: betas must be a pair (beta1, beta2), e.g. (0.9, 0.999), got {betas!r}.")
    if len(betas) != 2:
        raise ValueError(
            f"{optimizer}: betas must hold two values (beta1, beta2), e.g. (0.9, 0.999), got {len(betas)}: {betas!r}."
        )
    return betas[0], betas[1]


def _parameter_list(optimizer: str, params: Any) -> list[Parameter]:
    """The parameters an optimizer was given, as a list, or a clear error saying what to pass instead."""
    if isinstance(params, Module):
        raise TypeError(
            f"{optimizer}: got the module {type(params).__name__} itself; pass its parameters: "
            f"{optimizer}(net.parameters(), ...)."
        )
    if isinstance(params, Parameter):
        raise TypeError(
            f"{optimizer}: params must be an iterable of Parameters (net.parameters(), or a list [param]), "
            "got one Parameter; wrap it in a list."
        )
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"{optimizer}: params must be an iterable of Parameters (net.parameters()), got {type(params).__name__}."
        ) from None
    for index, param in enumerate(params):
        if isinstance(param, dict):
            raise TypeError(
                f"{optimizer}: entry {index} is a dict (a torch param group); param groups (per-group "
                "options) are not supported: pass one list of parameters, e.g. net.parameters(), which share "
                "one set of hyper-parameters."
            )
        if not isinstance(param, Parameter):
            raise TypeError(
                f"{optimizer}: entry {index} is a {type(param).__name__}, not a Parameter; pass net.parameters()."
            )
    return params


class Optimizer:
    """Base class: holds the parameters it trains and an optax transformation.

    Subclasses define ``_transform(learning_rate, <named hyper-parameters>)``. Hyper-
    parameters are injected (``optax.inject_hyperparams``), so ``lr`` can change
    between steps (``optimizer.lr = ...`` or ``param_groups[0]["lr"] = ...``)
    without recompiling.

    Two ways to train, as in torch: ``loss.backward()`` fills each parameter's
    ``.grad`` (accumulating), ``optimizer.step()`` applies them and
    ``optimizer.zero_grad()`` clears them; or ``optimizer.step(closure)`` runs the
    closure, its gradient and the update as one jitted function.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        *,
        lr: float,
        max_grad_norm: float | None = None,
        **hyperparameters: Any,
    ):
        """``max_grad_norm``: clip gradients to this global norm before the update."""
        name = type(self).__name__
        self.params: list[Parameter] = _parameter_list(name, params)
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list.")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{name}: a parameter appears more than once.")
        # Frozen parameters are left out; remembered so that unfreezing one later (which torch
        # would then train) raises instead of leaving it untrained.
        self.frozen_when_built: list[Parameter] = [p for p in self.params if not p.requires_grad]
        self.params = [p for p in self.params if p.requires_grad]
        lr = _checked_number(name, "lr", lr)
        hyperparameters = {key: _checked_number(name, key, value) for key, value in hyperparameters.items()}
        if max_grad_norm is not None and _checked_number(name, "max_grad_norm", max_grad_norm) == 0:
            raise ValueError(f"{name}: max_grad_norm must be > 0 (or None for no clipping), got 0.")
        self.max_grad_norm = max_grad_norm
        self.transform = _clipped(
            optax.inject_hyperparams(self._transform)(learning_rate=lr, **hyperparameters), max_grad_norm
        )
        self.state = self.transform.init(self._arrays())
        self._jitted_update = jax.jit(self.update, donate_argnums=(1,))
        self._closures: dict[Any, Any] = {}
        self._closures_with_torch_methods: set[Any] = set()  # code objects whose tensors stay constants
        self._jitted_closure_step = jax.jit(self._closure_step, static_argnums=(0,), donate_argnums=(2,))

    def _transform(self, learning_rate: Any, **hyperparameters: Any) -> optax.GradientTransformation:
        raise NotImplementedError

    def _arrays(self) -> tuple[Array, ...]:
        return tuple(p.data for p in self.params)

    @property
    def lr(self) -> float:
        """The learning rate; assign to change it (an injected hyper-parameter: nothing recompiles)."""
        return float(self.state.hyperparams["learning_rate"])

    @lr.setter
    def lr(self, value: float) -> None:
        self.set_hyperparameter("learning_rate", value)

    def set_hyperparameter(self, name: str, value: float) -> None:
        """Change an injected hyper-parameter (``learning_rate``, ``b1``, ``momentum``, ...)."""
        hyperparams = self.state.hyperparams
        if name not in hyperparams:
            raise KeyError(f"{type(self).__name__}: no hyper-parameter {name!r}; it has {sorted(hyperparams)}.")
        value = _checked_number(type(self).__name__, "lr" if name == "learning_rate" else name, value)
        hyperparams[name] = jnp.asarray(value, dtype=hyperparams[name].dtype)

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """One torch-style group; setting ``["lr"]`` changes the learning rate."""
        return [_ParamGroup(self)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear ``.grad`` of every parameter this optimizer trains, as torch's ``zero_grad()``."""
        for param in self.params:
            param.grad = None if set_to_none or param.grad is None else jnp.zeros_like(param.data)

    def update(
        self,
        params: tuple[Array, ...],
        state: Any,
        grads: tuple[Array, ...],
        transform: optax.GradientTransformation | None = None,
    ) -> tuple[tuple[Array, ...], Any]:
        """The pure update: ``(params, state, grads) -> (new_params, new_state)``; jit-safe.

        ``transform`` replaces ``self.transform`` (e.g. it wrapped in ``optax.MultiSteps``,
        which then clips the accumulated gradient, as torch and Lightning do).
        """
        updates, state = (transform or self.transform).update(grads, state, params)
        return optax.apply_updates(params, updates), state

    def apply_gradients(self, grads: Iterable[Array]) -> None:
        """One jitted update with the given gradients (in the order of ``self.params``)."""
        grads = tuple(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"{type(self).__name__}: got {len(grads)} gradients for {len(self.params)} parameters.")
        new_params, self.state = self._jitted_update(self._arrays(), self.state, grads)
        for param, array in zip(self.params, new_params):
            param.data = array

    def unfrozen_since_built(self) -> list[Parameter]:
        """Parameters that were frozen when this optimizer was built (so it does not train them) and are not now."""
        return [p for p in self.frozen_when_built if p.requires_grad]

    def _check_nothing_unfrozen(self, caller: str) -> None:
        unfrozen = self.unfrozen_since_built()
        if unfrozen:
            raise RuntimeError(
                f"{caller}: {len(unfrozen)} parameter(s) had requires_grad=False when this optimizer was built "
                "and have been unfrozen since; it does not train them (torch's would). Build the optimizer "
                "after unfreezing them."
            )
        frozen = [index for index, param in enumerate(self.params) if not param.requires_grad]
        if frozen:
            # Their state (momentum, weight decay) would still move them: torch skips them, this cannot.
            raise RuntimeError(
                f"{caller}: parameter(s) {frozen} (in the order given) have requires_grad=False now but were "
                "trained when this optimizer was built, so it would still update them; build the optimizer "
                "after freezing them."
            )

    def step(self, closure: Callable[[], Array] | None = None) -> Array | None:
        """One update: from the parameters' ``.grad`` (after ``loss.backward()``), or from a closure.

        Without a closure, the gradients ``loss.backward()`` accumulated in ``.grad``
        are applied in one jitted update (a parameter without ``.grad`` gets a zero
        gradient; torch would skip it, which differs for optimizers with momentum).
        Returns None.

        With a closure, the closure runs the network and returns a scalar loss. Forward, gradient
        (``jax.value_and_grad`` with respect to every trained parameter) and update
        run as one jitted function, compiled once per closure definition and input
        shapes: arrays the closure reads from its variables or from globals, and the
        arrays of the facade modules it uses, enter as inputs rather than constants,
        so new data and new weights never go stale. Torch tensors it reads are
        converted to JAX arrays and enter the same way; if the closure calls a
        torch-only method on them (``x.view(...)``), they are compiled in as
        constants instead, with a warning, and each new batch recompiles. (Arrays
        reached only through other helper functions' globals would be frozen in;
        pass them through the closure's own variables.) Returns the loss before the
        update.
        """
        if in_pure_scope():
            raise RuntimeError(
                f"{type(self).__name__}.step: called inside a compiled function (snx.compile, a closure): the "
                "update could not outlive it. Call optimizer.step() outside, or compile the whole training step "
                "with optimizer.step(closure)."
            )
        self._check_nothing_unfrozen(f"{type(self).__name__}.step")
        if closure is None:
            if all(param.grad is None for param in self.params):
                raise RuntimeError(
                    f"{type(self).__name__}.step: no parameter has a gradient; call loss.backward() first "
                    "(or pass a closure that returns the loss: optimizer.step(lambda: loss_fn(net(x)[0], y)))."
                )
            self.apply_gradients(
                jnp.zeros_like(param.data) if param.grad is None else param.grad.jax() for param in self.params
            )
            return None
        convert = getattr(closure, "__code__", None) not in self._closures_with_torch_methods
        split = split_closure(closure, convert_tensors=convert)
        if split is None:  # not a plain Python function: differentiate it eagerly
            (loss, _), grads = jax.value_and_grad(self._loss_of(closure, [], []), has_aux=True)(self._arrays())
            self.apply_gradients(grads)
            return loss
        modules = modules_used_by(closure)
        try:
            new_params, self.state, loss, hidden = self._run_closure_step(split, modules)
        except (AttributeError, TypeError) as error:
            if not (convert and split.tensor_names):
                raise
            # The closure calls torch-only methods (``x.view(...)``, ``x.float()``) on the tensors it
            # captures, which their JAX stand-ins lack: compile them in as constants instead, and
            # remember it, so later steps of this closure do not trace the failing conversion again.
            self._closures_with_torch_methods.add(closure.__code__)
            warnings.warn(
                f"{type(self).__name__}.step: the closure calls a method JAX arrays lack on the torch "
                f"tensor(s) {split.tensor_names} ({error}); they are compiled in as constants, so each "
                "new batch recompiles. Convert them before the closure (x = x.numpy()) to compile once.",
                stacklevel=2,
            )
            split = split_closure(closure, convert_tensors=False)
            new_params, self.state, loss, hidden = self._run_closure_step(split, modules)
        for param, array in zip(self.params, new_params):
            param.data = array
        for module, states in zip(modules, hidden):
            module.set_hidden(states)
        return loss

    def _run_closure_step(self, split: SplitClosure, modules: list) -> tuple:
        # Keep the closure's objects alive while their identities key the compilation cache.
        self._closures.setdefault(split.key, (split, modules))
        module_arrays = [dict(module.named_arrays()) for module in modules]
        hidden = [dict(module.named_hidden()) for module in modules]
        return self._jitted_closure_step(
            split.key, self._arrays(), self.state, split.dynamic, module_arrays, hidden, next_key()
        )

    def _loss_of(
        self, closure: Callable[[], Array], bindings: list, modules: list
    ) -> Callable[[tuple[Array, ...]], tuple[Array, list]]:
        """The loss and the modules' final hidden states as a function of the trained arrays.

        ``bindings`` (context managers) are active while the closure runs; it runs
        as pure JAX code (facade calls are not recorded).
        """

        def loss_of(arrays: tuple[Array, ...]) -> tuple[Array, list]:
            with contextlib.ExitStack() as stack:
                for binding in bindings:
                    stack.enter_context(binding)
                stack.enter_context(bind_parameters(self.params, arrays))
                stack.enter_context(pure_scope(differentiated=True))
                loss = jnp.asarray(run_captured(closure, modules))
                hidden = [dict(module.named_hidden()) for module in modules]
            if loss.shape != ():
                raise ValueError(f"{type(self).__name__}.step: the closure must return a scalar, got {loss.shape}.")
            return loss, hidden

        return loss_of

    def _closure_step(self, key, params, state, dynamic, module_arrays, hidden, rng):
        split, modules = self._closures[key]
        bindings = [module.bind(arrays) for module, arrays in zip(modules, module_arrays)] + [key_scope(rng)]
        with contextlib.ExitStack() as stack:
            for binding in bindings[:-1]:
                stack.enter_context(binding)
            # Hidden state enters as arguments (never compiled in) and leaves as results.
            for module, states in zip(modules, hidden):
                module.set_hidden(states)
            loss_of = self._loss_of(split.rebuild(dynamic), bindings[-1:], modules)
            (loss, hidden), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
        params, state = self.update(params, state, grads)
        return params, state, loss, hidden

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={float(v):g}" for k, v in self.state.hyperparams.items())
        return f"{type(self).__name__}({hyper})"


# torch's param-group keys for optax's names of the injected hyper-parameters (``b1``, ``b2``
# appear together as ``betas``).
_TORCH_KEYS = {"learning_rate": "lr"}
_OPTAX_NAMES = {torch: optax_name for optax_name, torch in _TORCH_KEYS.items()}


class _ParamGroup(dict):
    """The optimizer's one group as torch's dict (``params``, ``lr``, ``betas``, ...).

    Writing a hyper-parameter writes through to the optimizer; a key it does not
    have raises, since torch code that sets one expects it to take effect.
    """

    def __init__(self, optimizer: Optimizer):
        hyperparams = optimizer.state.hyperparams
        entries: dict[str, Any] = {"params": optimizer.params}
        for name, value in hyperparams.items():
            if name not in ("b1", "b2"):
                entries[_TORCH_KEYS.get(name, name)] = float(value)
        if "b1" in hyperparams:
            entries["betas"] = (float(hyperparams["b1"]), float(hyperparams["b2"]))
        super().__init__(entries)
        self._optimizer = optimizer

    def __setitem__(self, key: str, value: Any) -> None:
        optimizer = self._optimizer
        name = type(optimizer).__name__
        if key == "params" or key not in self:
            raise KeyError(
                f"{name}.param_groups[0]: {key!r} is not a hyper-parameter this optimizer can change; it has "
                f"{sorted(k for k in self if k != 'params')} (the parameters and fixed options such as "
                "nesterov are set when the optimizer is built)."
            )
        if key == "betas":
            b1, b2 = _betas(name, value)
            b1, b2 = _checked_number(name, "b1", b1), _checked_number(name, "b2", b2)  # both before writing
            optimizer.set_hyperparameter("b1", b1)
            optimizer.set_hyperparameter("b2", b2)
            value = (b1, b2)
        else:
            optimizer.set_hyperparameter(_OPTAX_NAMES.get(key, key), value)
            value = float(value)
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


def _with_weight_decay(weight_decay: Any, inner: optax.GradientTransformation) -> optax.GradientTransformation:
    """torch's coupled (L2) weight decay: ``grad + weight_decay * param`` before the update rule."""
    return optax.chain(optax.add_decayed_weights(weight_decay), inner)


class SGD(Optimizer):
    """``torch.optim.SGD``: momentum (``buf = m*buf + g``), Nesterov, coupled weight decay."""

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        max_grad_norm: float | None = None,
    ):
        momentum = _checked_number("SGD", "momentum", momentum)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov needs momentum > 0.")
        self._nesterov = nesterov
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay, max_grad_norm=max_grad_norm)

    def _transform(self, learning_rate, momentum, weight_decay):
        sgd = optax.sgd(learning_rate, momentum=momentum, nesterov=self._nesterov)
        return _with_weight_decay(weight_decay, sgd)


class Adam(Optimizer):
    """``torch.optim.Adam`` (``eps`` outside the square root, coupled L2 ``weight_decay``)."""

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        max_grad_norm: float | None = None,
    ):
        b1, b2 = _betas(type(self).__name__, betas)
        super().__init__(params, lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay, max_grad_norm=max_grad_norm)

    def _transform(self, learning_rate, b1, b2, eps, weight_decay):
        return _with_weight_decay(weight_decay, optax.adam(learning_rate, b1=b1, b2=b2, eps=eps))


class AdamW(Optimizer):
    """``torch.optim.AdamW``: decoupled weight decay (default 0.01, as torch)."""

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        *,
        max_grad_norm: float | None = None,
    ):
        b1, b2 = _betas(type(self).__name__, betas)
        super().__init__(params, lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay, max_grad_norm=max_grad_norm)

    def _transform(self, learning_rate, b1, b2, eps, weight_decay):
        return optax.adamw(learning_rate, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)


class RMSprop(Optimizer):
    """``torch.optim.RMSprop``: ``v = alpha v + (1-alpha) g^2``, step ``g / (sqrt(v) + eps)``."""

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        max_grad_norm: float | None = None,
    ):
        self._centered = centered
        self._use_momentum = _checked_number("RMSprop", "momentum", momentum) > 0
        super().__init__(
            params,
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            max_grad_norm=max_grad_norm,
        )

    def _transform(self, learning_rate, alpha, eps, weight_decay, momentum):
        rms = optax.rmsprop(
            learning_rate,
            decay=alpha,
            eps=eps,
            eps_in_sqrt=False,
            centered=self._centered,
            momentum=momentum if self._use_momentum else None,
        )
        return _with_weight_decay(weight_decay, rms)
