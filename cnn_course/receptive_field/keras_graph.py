"""The one module that reads Keras' private graph API; everything else asks it.

Keras 3 has no public way to walk a Functional model's nodes in execution order, to run its
graph on inputs of another dtype, or to name the classes of the operations that `x + y` or
`keras.ops.relu(x)` create on KerasTensors. These helpers do, with `keras.src` internals that
can change between releases: pyproject.toml states the Keras range this is tested on, and CI
runs the unit tests at both ends of it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator

import keras

# Where Keras keeps the operation classes of `keras.ops` (and applications' own layers).
OPERATION_MODULES = ("keras.src.ops.numpy", "keras.src.ops.nn", "keras.src.ops.core",
                     "keras.src.ops.math", "keras.src.applications.inception_resnet_v2")


def functional_graph(model: keras.Model) -> keras.Model:
    """The Functional graph behind a model (a built Sequential's own functional graph)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a keras.Model; received {type(model).__name__} {model!r:.60}. "
                        f"Build one first, e.g. `cnn_course.models.build(name)`.")
    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
        if graph is None:
            raise ValueError(
                f"Sequential model {model.name!r} has no known input shape, so its geometry is "
                f"undefined. Start it with `keras.Input(shape=...)` or call it on data first."
            )
        return graph
    if not hasattr(model, "_nodes_by_depth"):
        raise ValueError(
            f"Model {model.name!r} ({type(model).__name__}) is a subclassed model; its layer "
            f"graph cannot be read. Use a Functional or Sequential model for annotate()."
        )
    return model


def nodes_in_order(graph: keras.Model) -> Iterator:
    """The graph's nodes in the order `Functional._run_through_graph` executes them."""
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        yield from graph._nodes_by_depth[depth]


def run_graph(model: keras.Model, inputs: list):
    """The model's graph applied to `inputs` as they are (its own call would cast them to
    the input layer's dtype, e.g. floats to uint8)."""
    return model._run_through_graph(inputs, operation_fn=lambda operation: operation)


def operation_classes(names: Iterable[str]) -> list[type]:
    """The Keras operation classes with these names (those this Keras version has)."""
    found = []
    for module_name in OPERATION_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pragma: no cover - a Keras version without this module
            continue
        found += [getattr(module, name) for name in names
                  if isinstance(getattr(module, name, None), type)]
    return found
