"""Receptive field and layer geometry of any Keras 3 model, exactly.

    rows = annotate(model)          # per layer: output_size, jump, rf, start, padding, aligned
    summary(model)                  # model.summary-like table with RF and jump columns
    summary(model, format="markdown")
    effective_receptive_field(model, "conv5")   # where the centre unit actually looks
    register_geometry(MyLayer, conv_like())   # custom layers declare their geometry
    register_macs(MyLayer, fn)                # and their cost: fn(layer, in_shape, out_shape)
    class MyLayer(keras.layers.Layer):        # or the class carries its rules itself:
        receptive_field_rule = "pointwise"    #   a named rule ("pointwise", "window")
        def count_macs(self, input_shape, output_shape): ...

`registry` is the mechanism, `keras_rules` Keras' layers' rules, `geometry` the arithmetic
(TF 'same' padding, dilation, transposed convs, merges).
"""

from cnn_course.receptive_field.annotate import LayerRow, annotate
from cnn_course.receptive_field.effective import (
    EffectiveReceptiveField,
    effective_receptive_field,
)
from cnn_course.receptive_field.geometry import AxisMap
from cnn_course.receptive_field.keras_rules import conv_like, global_extent, merge, pointwise
from cnn_course.receptive_field.registry import (
    Geometry,
    LayerContext,
    count_macs,
    register_geometry,
    register_macs,
    registered,
    unregister,
)
from cnn_course.receptive_field.summary import summary

__all__ = [
    "AxisMap",
    "EffectiveReceptiveField",
    "Geometry",
    "LayerContext",
    "LayerRow",
    "annotate",
    "conv_like",
    "effective_receptive_field",
    "global_extent",
    "merge",
    "pointwise",
    "register_geometry",
    "register_macs",
    "registered",
    "count_macs",
    "summary",
    "unregister",
]
