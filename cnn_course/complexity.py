"""What a network costs: per layer, its weights, biases and multiply-accumulates (MACs).

    costs = complexity.layer_costs(model)      # one LayerCost per layer call, then totals(costs)
    print(complexity.table(model))             # the same as a table
    complexity.lecture_comparison("alexnet_vs_lenet")   # the lecture's tables, recomputed

Conventions, stated because papers and lectures mix them:

* MACs: one multiply and one add per kernel weight per output position, biases and
  activations not counted. FLOPs = 2 x MACs. The lecture's "FLOP" columns are MACs.
* Weights are kernels only; biases and normalization parameters (BatchNorm's gamma, beta and
  its moving statistics) are counted apart, so a table can follow either convention.
* The MACs come from the receptive-field engine's layer registry (`receptive_field.annotate`,
  `register_macs`): the RF summary's MACs column and this module count with one counter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import keras

from cnn_course import tables
from cnn_course.receptive_field import annotate

NORMALIZATION_LAYERS = (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                        keras.layers.GroupNormalization)


@dataclass(frozen=True)
class LayerCost:
    """The cost of one layer call (or a group of them, or the total)."""

    layer: str
    kind: str
    output_shape: tuple
    weights: int  # kernels (conv, depthwise, pointwise, dense)
    biases: int
    normalization: int  # BatchNorm-style gamma, beta and moving statistics
    macs: int

    @property
    def params(self) -> int:
        return self.weights + self.biases + self.normalization

    @property
    def flops(self) -> int:
        return 2 * self.macs


def _find_layer(model: keras.Model, path: str) -> keras.layers.Layer:
    """The layer an annotate row names: nested models' rows are 'outer/inner'."""
    layer = model
    for part in path.split("/"):
        layer = layer.get_layer(part)
    return layer


def _split_weights(layer: keras.layers.Layer) -> tuple[int, int, int]:
    """(kernel weights, biases, normalization parameters) of one layer."""
    weights = biases = normalization = 0
    for variable in layer.weights:
        size = math.prod(variable.shape)
        if isinstance(layer, NORMALIZATION_LAYERS):
            normalization += size
        elif variable.name.split("/")[-1].startswith("bias"):
            biases += size
        else:
            weights += size
    return weights, biases, normalization


def layer_costs(model: keras.Model) -> list[LayerCost]:
    """One `LayerCost` per layer call, in the order Keras runs them. A layer called twice
    (shared weights) costs MACs at every call and parameters at its first."""
    costs, seen = [], set()
    for row in annotate(model):
        if row.macs is None:
            raise ValueError(f"Layer {row.layer!r} of model {model.name!r} has no fixed size "
                             f"(output {row.output_shape}), and its MACs depend on it: build the "
                             f"model on `keras.Input(shape=(height, width, channels))`.")
        weights = biases = normalization = 0
        if row.params:  # parameter-free rows include a Sequential's implicit input layer
            layer = _find_layer(model, row.layer)
            if id(layer) not in seen:
                weights, biases, normalization = _split_weights(layer)
            seen.add(id(layer))
        costs.append(LayerCost(row.layer, row.kind, row.output_shape, weights, biases,
                               normalization, row.macs))
    return costs


def totals(costs: Sequence[LayerCost], name: str = "total") -> LayerCost:
    """The sum of `costs` as one row."""
    return LayerCost(
        name, "", (),
        sum(cost.weights for cost in costs), sum(cost.biases for cost in costs),
        sum(cost.normalization for cost in costs), sum(cost.macs for cost in costs),
    )


def grouped(costs: Sequence[LayerCost], groups: Mapping[str, Sequence[str]]) -> list[LayerCost]:
    """Rows that sum the named layers under one label, e.g. {"Conv3-5": ["conv3", "conv4",
    "conv5"]}, as the lecture's tables do. Unknown layer names are an error."""
    by_name = {cost.layer: cost for cost in costs}
    rows = []
    for label, names in groups.items():
        missing = [name for name in names if name not in by_name]
        if missing:
            raise ValueError(
                f"Group {label!r} names layers the model does not have: {missing}. "
                f"Layers: {list(by_name)}"
            )
        rows.append(totals([by_name[name] for name in names], name=label))
    return rows


def table(model_or_costs: keras.Model | Sequence[LayerCost], skip_free: bool = True,
          format: str = "text") -> str:
    """Per-layer weights, biases, normalization parameters, MACs and FLOPs, plus the total.
    `skip_free` leaves out layers with neither parameters nor MACs (activations, pooling)."""
    costs = (list(model_or_costs) if isinstance(model_or_costs, (list, tuple))
             else layer_costs(model_or_costs))  # anything else is a model, or refused there
    shown = [cost for cost in costs if not skip_free or cost.params or cost.macs]
    header = ("layer", "output", "weights", "biases", "norm", "params", "MACs", "FLOPs")
    rows = [(cost.layer, "x".join(str(size) for size in cost.output_shape[1:]),
             f"{cost.weights:,}", f"{cost.biases:,}", f"{cost.normalization:,}",
             f"{cost.params:,}", tables.human(cost.macs), tables.human(cost.flops)) for cost in shown]
    total = totals(costs)
    rows.append(("total", "", f"{total.weights:,}", f"{total.biases:,}",
                 f"{total.normalization:,}", f"{total.params:,}", tables.human(total.macs),
                 tables.human(total.flops)))
    return tables.render(header, rows, format=format)


# ---------------------------------------------------------------------------------------------
# The lecture's cost tables, as quoted, and what the builders give under its conventions.

_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}


def parse_quoted(quoted: str) -> tuple[float, int]:
    """'0.48M' → (480000.0, 2): the value and its significant digits."""
    number, unit = (quoted[:-1], quoted[-1]) if quoted[-1] in _UNITS else (quoted, "")
    digits = len(number.replace(".", "").lstrip("0"))
    return float(number) * _UNITS[unit], digits


def agrees(computed: int, quoted: str) -> bool:
    """Whether `quoted` is `computed` written to the quote's precision (rounded or truncated:
    slides do both, e.g. 34,848 → '35K' but 16,777,216 → '16M')."""
    value, digits = parse_quoted(quoted)
    if computed == 0:
        return value == 0
    exponent = math.floor(math.log10(abs(computed))) - digits + 1
    step = 10.0 ** exponent
    return any(math.isclose(candidate * step, value, rel_tol=1e-9)
               for candidate in (round(computed / step), math.floor(computed / step)))


@dataclass(frozen=True)
class QuotedCost:
    """One row of a lecture table: what it quotes and what the model gives."""

    network: str
    row: str
    quantity: str  # "params" (kernel weights, no biases) or "FLOP" (MACs)
    quoted: str
    computed: int

    @property
    def agrees(self) -> bool:
        return agrees(self.computed, self.quoted)


# The lecture's tables. Params are kernel weights (no biases) and "FLOP" are MACs; the output
# layer is left out (its rows stop at Dense2), which is the only convention under which the
# AlexNet column and the Inception table reproduce. `None` marks the lecture's "–".
LECTURE_TABLES: dict[str, dict[str, dict[str, tuple[str | None, str | None]]]] = {
    "alexnet_vs_lenet": {
        "alexnet": {"Conv1": ("35K", "101M"), "Conv2": ("614K", "415M"),
                    "Conv3-5": ("3M", "445M"), "Dense1": ("26M", "26M"),
                    "Dense2": ("16M", "16M"), "Total": ("46M", "1G")},
        "lenet": {"Conv1": ("150", "1.2M"), "Conv2": ("2.4K", "2.4M"), "Conv3-5": (None, None),
                  "Dense1": ("0.48M", "0.48M"), "Dense2": ("0.1M", "0.1M"),
                  "Total": ("0.6M", "4M")},
    },
    "inception_vs_single_conv": {
        "inception": {"Total": ("0.16M", "128M")},
        "conv3x3": {"Total": ("0.44M", "346M")},
        "conv5x5": {"Total": ("1.22M", "963M")},
    },
}

_GROUPS = {
    "alexnet": {"Conv1": ["conv1"], "Conv2": ["conv2"], "Conv3-5": ["conv3", "conv4", "conv5"],
                "Dense1": ["dense1"], "Dense2": ["dense2"]},
    "lenet": {"Conv1": ["conv1"], "Conv2": ["conv2"], "Dense1": ["dense1"],
              "Dense2": ["dense2"]},
}


def lecture_models() -> dict[str, keras.Model]:
    """The models the lecture's tables describe: AlexNet on ImageNet (224x224x3, 1000
    classes), d2l's LeNet on 28x28x1, and the first Inception block (28x28x192 in, 256 out)
    next to a single 3x3 and a single 5x5 conv with as many output channels."""
    from cnn_course.models import classic, blocks, sequential

    inputs = keras.Input((28, 28, 192), name="inception_input")
    inception = keras.Model(inputs, blocks.inception_block(inputs, 64, (96, 128), (16, 32), 32,
                                                           name="inception3a"),
                            name="inception")
    return {
        "alexnet": classic.alexnet(image_shape=(224, 224, 3), num_classes=1000),
        "lenet": classic.lenet(),
        "inception": inception,
        "conv3x3": sequential((28, 28, 192), keras.layers.Conv2D(256, 3, padding="same"),
                              name="conv3x3"),
        "conv5x5": sequential((28, 28, 192), keras.layers.Conv2D(256, 5, padding="same"),
                              name="conv5x5"),
    }


def lecture_comparison(name: str, models: Mapping[str, keras.Model] | None = None
                       ) -> list[QuotedCost]:
    """Every number of lecture table `name` (a key of `LECTURE_TABLES`) next to the one the
    builders give under the table's conventions; `QuotedCost.agrees` says if they match."""
    if name not in LECTURE_TABLES:
        raise ValueError(f"Unknown lecture table {name!r}. Expected one of "
                         f"{sorted(LECTURE_TABLES)}.")
    models = models or lecture_models()
    result = []
    for network, quoted_rows in LECTURE_TABLES[name].items():
        costs = layer_costs(models[network])
        groups = _GROUPS.get(network)
        rows = {row.layer: row for row in grouped(costs, groups)} if groups else {}
        counted = list(rows.values()) if groups else costs
        rows["Total"] = totals(counted)
        for row_name, (quoted_params, quoted_flop) in quoted_rows.items():
            for quantity, quoted in (("params", quoted_params), ("FLOP", quoted_flop)):
                if quoted is None:
                    continue
                row = rows[row_name]
                computed = row.weights if quantity == "params" else row.macs
                result.append(QuotedCost(network, row_name, quantity, quoted, computed))
    return result


def comparison_table(comparison: Sequence[QuotedCost], format: str = "text") -> str:
    """The lecture's numbers next to the computed ones, one line each."""
    header = ("network", "row", "quantity", "lecture", "computed", "agrees")
    rows = [(item.network, item.row, item.quantity, item.quoted, f"{item.computed:,}",
             "yes" if item.agrees else "NO") for item in comparison]
    return tables.render(header, rows, format=format)
