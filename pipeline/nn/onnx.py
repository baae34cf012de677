"""The trained network as an ONNX graph, for any ONNX runtime.

The graph takes raw pixels, exactly as the data source stores them, and does
everything else itself: the run's preprocessing ``(x * scale - mean) / std``,
``MatMul`` + ``Add`` per layer, the hidden activation, ``Softmax`` and
``ArgMax``, then a ``Gather`` that turns the winning column into the class label.

An activation's ONNX form is a function ``form(x, y)`` returning the nodes that
compute ``y = f(x)`` as plain tuples ``(op_type, inputs, outputs, attributes)``
(see the ``pipeline_register_onnx_activations`` hook), so plugins need not import
``onnx``. The ``onnx`` package itself is imported only when a graph is built.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: ONNX operator set and IR version the graph is stamped with. Pinned: a newer ``onnx``
#: package stamps its own (newer) IR version, which older runtimes refuse to load;
#: IR 8 / opset 17 load in every onnxruntime since 1.13 (the test extra asks for >= 1.16).
OPSET, IR_VERSION = 17, 8
#: Value of the ``format`` metadata entry of the graphs built here.
ONNX_FORMAT = "pipeline-mlp-onnx"
#: What to install when ``onnx`` is missing.
INSTALL_HINT = 'pip install -e ".[onnx]" (or pip install onnx)'

#: An ONNX node as a plain tuple: op type, input names, output names, attributes.
Node = tuple[str, Sequence[str], Sequence[str], dict[str, Any]]


class FormError(ValueError):
    """An activation's ONNX form returned something that is not a valid chain of nodes."""


def onnx_available() -> bool:
    """Whether the ``onnx`` package can be imported."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def activation_nodes(form: Callable[[str, str], Sequence[Node]], x: str, y: str) -> list[Node]:
    """The nodes of ``y = f(x)``, checked.

    Parameters
    ----------
    form : callable
        ``form(x, y) -> [(op_type, inputs, outputs, attributes), ...]``.
    x, y : str
        Names of the input and output tensors, each float32 of shape (n, width).

    Returns
    -------
    list of Node

    Raises
    ------
    FormError
        Not a list of 4-tuples; an input that is neither ``x`` nor produced earlier; an
        intermediate name that does not start with ``y + "/"``; ``y`` not produced last.
    """
    try:
        nodes = list(form(x, y))
    except Exception as exc:  # foreign code: the caller names the plugin
        raise FormError(f"form({x!r}, {y!r}) raised {type(exc).__name__}: {exc}") from exc
    known = {x}
    for i, node in enumerate(nodes):
        if not (isinstance(node, tuple) and len(node) == 4 and isinstance(node[0], str)
                and all(isinstance(n, str) for n in (*node[1], *node[2])) and isinstance(node[3], dict)):
            raise FormError(f"node {i} must be a tuple (op_type, [inputs], [outputs], {{attributes}}), got {node!r}")
        missing = [n for n in node[1] if n not in known]
        if missing:
            raise FormError(f"node {i} ({node[0]}) reads {missing}, which no earlier node produces "
                            f"(the input is {x!r})")
        stray = [n for n in node[2] if n != y and not n.startswith(y + "/")]
        if stray:
            raise FormError(f"node {i} ({node[0]}) writes {stray}; name intermediates '{y}/...' and the result {y!r}")
        known.update(node[2])
    if not nodes or y not in nodes[-1][2]:
        raise FormError(f"the last node must produce {y!r}")
    return nodes


#: Pre-activations the ONNX form of an activation is checked on, and the largest difference allowed.
PROBE = np.linspace(-6, 6, 96, dtype=np.float32).reshape(8, 12)
FORM_TOLERANCE = 1e-5


def check_form(form: Callable[[str, str], Sequence[Node]], forward: Callable[[np.ndarray], np.ndarray]) -> None:
    """The ONNX form must compute what the activation's NumPy ``forward`` computes.

    Evaluated with ``onnx``'s reference evaluator (no runtime needed) on :data:`PROBE`, so a
    ``model.onnx`` can never disagree with the trained network because its activation differs.

    Raises
    ------
    FormError
        Malformed, not valid ONNX, or more than :data:`FORM_TOLERANCE` away from ``forward``
        (relative to the size of the value, for values above 1).
    """
    import onnx
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    nodes = [helper.make_node(op, list(ins), list(outs), **attrs)
             for op, ins, outs, attrs in activation_nodes(form, "x", "y")]
    value = helper.make_tensor_value_info
    graph = helper.make_graph(nodes, "activation", [value("x", TensorProto.FLOAT, list(PROBE.shape))],
                              [value("y", TensorProto.FLOAT, list(PROBE.shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    try:
        onnx.checker.check_model(model, full_check=True)
        got = np.asarray(ReferenceEvaluator(model).run(None, {"x": PROBE})[0], dtype=np.float64)
    except Exception as exc:  # the checker's, the shape inference's and the evaluator's own errors
        raise FormError(f"it is not valid ONNX: {' '.join(str(exc).split())[:200]}") from None
    want = np.asarray(forward(PROBE.copy()), dtype=np.float64)
    if got.shape != want.shape:
        raise FormError(f"it gives shape {got.shape} where forward(z) gives {want.shape}")
    error = np.abs(got - want) / np.maximum(1.0, np.abs(want))
    worst = int(np.nanargmax(error)) if np.isfinite(error).any() else 0
    if not np.all(error <= FORM_TOLERANCE):
        raise FormError(f"it computes {got.flat[worst]:.6g} at z = {PROBE.flat[worst]:g} where forward(z) "
                        f"gives {want.flat[worst]:.6g} (allowed difference {FORM_TOLERANCE:g})")


def _label_tensor(classes: Sequence[Any]) -> tuple[np.ndarray, int]:
    """The class labels as a constant and the ONNX element type of the ``label`` output."""
    from onnx import TensorProto

    if all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in classes):
        return np.asarray(classes, dtype=np.int64), TensorProto.INT64
    return np.asarray([str(c) for c in classes], dtype=object), TensorProto.STRING


def build_model(params: list[np.ndarray], form: Callable[[str, str], Sequence[Node]],
                preprocessing: dict[str, Any], classes: Sequence[Any],
                metadata: dict[str, Any] | None = None) -> bytes:
    """The serialized, checked ONNX model.

    Parameters
    ----------
    params : list of ndarray
        ``[W1, b1, ...]``; ``W`` (fan_in, fan_out), ``b`` (fan_out,).
    form : callable
        The hidden activation's ONNX form (see :func:`activation_nodes`).
    preprocessing : dict
        ``scale``, ``mean``, ``std`` (from ``normalize``): ``x = (pixels * scale - mean) / std``.
    classes : sequence
        Label of each output column; ints give an int64 ``label`` output, anything else strings.
    metadata : dict, optional
        Extra ``metadata_props`` (values JSON-encoded unless they are strings).

    Returns
    -------
    bytes
        A model with input ``pixels`` float32 [N, D] and outputs ``probabilities``
        float32 [N, classes] and ``label`` [N].

    Raises
    ------
    ImportError
        ``onnx`` is not installed.
    FormError
        The activation's form is malformed.
    onnx.checker.ValidationError
        The graph is not valid ONNX (e.g. a form used an unknown op).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def const(name: str, value: Any) -> onnx.TensorProto:
        return numpy_helper.from_array(np.asarray(value), name=name)

    n_layers = len(params) // 2
    label_values, label_type = _label_tensor(classes)
    inits = [const("scale", np.float32(preprocessing.get("scale", 1.0))),
             const("mean", np.float32(preprocessing.get("mean", 0.0))),
             const("std", np.float32(preprocessing.get("std", 1.0))),
             const("classes", label_values)]
    nodes = [helper.make_node("Mul", ["pixels", "scale"], ["scaled"]),
             helper.make_node("Sub", ["scaled", "mean"], ["centered"]),
             helper.make_node("Div", ["centered", "std"], ["h0"])]
    for layer in range(1, n_layers + 1):
        w, b = params[2 * layer - 2], params[2 * layer - 1]
        inits += [const(f"W{layer}", w.astype(np.float32)), const(f"b{layer}", b.astype(np.float32))]
        nodes += [helper.make_node("MatMul", [f"h{layer - 1}", f"W{layer}"], [f"mm{layer}"]),
                  helper.make_node("Add", [f"mm{layer}", f"b{layer}"], [f"z{layer}"])]
        if layer < n_layers:
            for op, ins, outs, attrs in activation_nodes(form, f"z{layer}", f"h{layer}"):
                nodes.append(helper.make_node(op, list(ins), list(outs), **attrs))
    nodes += [helper.make_node("Softmax", [f"z{n_layers}"], ["probabilities"], axis=1),
              helper.make_node("ArgMax", ["probabilities"], ["index"], axis=1, keepdims=0),
              helper.make_node("Gather", ["classes", "index"], ["label"], axis=0)]
    graph = helper.make_graph(
        nodes, "pipeline_mlp",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", params[0].shape[0]])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", params[-1].shape[0]]),
         helper.make_tensor_value_info("label", label_type, ["N"])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
                              producer_name="pipeline")
    props = {"format": ONNX_FORMAT, "classes": list(classes), **(metadata or {})}
    helper.set_model_props(model, {k: v if isinstance(v, str) else json.dumps(v) for k, v in props.items()})
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()
