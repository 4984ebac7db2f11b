"""Exact per-axis receptive-field geometry.

One spatial axis of a tensor is described by an `AxisMap`: for each output position `o`, the
first and last input pixel (`lo`, `hi`) that can influence it. The map is periodic: positions
`o` and `o + period` see the same pattern, moved by `shift` input pixels. A plain conv stack has
period 1; a transposed conv or upsampling by `s` multiplies the period by `s`, which is how
non-uniform receptive fields (alternating 2/1) and empty ones (k < s) are represented exactly.

From the map follow the textbook quantities, with k_e = d(k - 1) + 1:
    jump j = shift / period                       (j_out = j_in * s)
    rf   r = hi - lo + 1                          (r_out = r_in + (k_e - 1) j_in)
    start  = (lo + hi) / 2 of unit 0              (start_in + ((k_e - 1)/2 - p_L) j_in)
Input pixels are centred at 0, 1, 2, ...; padded positions have negative or >= n coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from cnn_course.concepts.arithmetic import conv_output_size

Extent = tuple[int, int] | None


@dataclass(frozen=True)
class AxisMap:
    """Which input pixels each output position of one axis sees.

    Attributes:
        period: output positions per repeat of the pattern.
        shift: input pixels the pattern moves per period.
        extents: (lo, hi) for output positions 0 .. period-1, None where nothing is seen.
        size: number of output positions (None when the input size is unknown).
        offset_known: False when the pattern's position is unknown ('same' padding on an
            unknown size); rf and jump stay exact, start and padding are unknown.
    """

    period: int
    shift: int
    extents: tuple[Extent, ...]
    size: int | None
    offset_known: bool = True

    @classmethod
    def identity(cls, size: int | None) -> AxisMap:
        return cls(1, 1, ((0, 0),), size)

    def extent(self, position: int) -> Extent:
        cycles, phase = divmod(position, self.period)
        extent = self.extents[phase]
        if extent is None:
            return None
        return extent[0] + cycles * self.shift, extent[1] + cycles * self.shift

    @property
    def jump(self) -> Fraction:
        return Fraction(self.shift, self.period)

    @property
    def rf_sizes(self) -> tuple[int | None, ...]:
        return tuple(None if e is None else e[1] - e[0] + 1 for e in self.extents)

    @property
    def rf(self) -> int | None:
        sizes = [size for size in self.rf_sizes if size is not None]
        return max(sizes) if sizes else None

    @property
    def uniform(self) -> bool:
        return len(set(self.rf_sizes)) == 1

    @property
    def has_empty(self) -> bool:
        return any(extent is None for extent in self.extents)

    @property
    def start(self) -> Fraction | None:
        extent = self.extents[0]
        if extent is None or not self.offset_known:
            return None
        return Fraction(extent[0] + extent[1], 2)


def transform(
    source: AxisMap,
    contributors: Callable[[int], Sequence[int]],
    period: int,
    input_step: int,
    size: int | None,
    offset_known: bool = True,
) -> AxisMap:
    """The map of an output axis whose position `o` reads input positions `contributors(o)`.

    `contributors(o + period)` must equal `contributors(o) + input_step`, with `input_step` a
    multiple of `source.period`, so the new pattern repeats every `period` outputs.
    """
    if input_step % source.period:
        raise AssertionError("input_step must be a multiple of the source period")
    extents = []
    for position in range(period):
        seen = [source.extent(index) for index in contributors(position)]
        seen = [extent for extent in seen if extent is not None]
        extents.append(
            (min(e[0] for e in seen), max(e[1] for e in seen)) if seen else None
        )
    shift = input_step // source.period * source.shift
    return AxisMap(period, shift, tuple(extents), size, source.offset_known and offset_known)


def resolve_padding(
    padding: str | tuple[int, int],
    size: int | None,
    kernel_extent: int,
    stride: int,
) -> tuple[int, int] | None:
    """(p_L, p_R) a sliding window applies; None when 'same' meets an unknown size.

    TF/Keras 'same': n = ceil(n_in / s), total = max((n - 1)s + k_e - n_in, 0), the extra pixel
    on the right. 'causal' pads k_e - 1 on the left only.
    """
    if isinstance(padding, tuple):
        return padding
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return kernel_extent - 1, 0
    if padding == "same":
        if size is None:
            return None
        out = conv_output_size(size, kernel_extent, stride, "same")
        total = max((out - 1) * stride + kernel_extent - size, 0)
        return total // 2, total - total // 2
    raise ValueError(f"Unsupported padding {padding!r}: expected 'valid', 'same' or 'causal'.")


def window_output_size(size: int | None, pads: tuple[int, int] | None, kernel_extent: int,
                       stride: int, padding: str | tuple[int, int]) -> int | None:
    """n = floor((n_in + p_L + p_R - k_e) / s) + 1 (`arithmetic.conv_output_size`)."""
    if size is None:
        return None
    return conv_output_size(size, kernel_extent, stride, "same" if pads is None else pads)


def sliding_window(
    source: AxisMap,
    kernel: int,
    stride: int = 1,
    dilation: int = 1,
    padding: str | tuple[int, int] = "valid",
    size: int | None = None,
) -> tuple[AxisMap, tuple[int, int] | None]:
    """Conv / pooling / pad / crop along one axis; returns the map and (p_L, p_R)."""
    kernel_extent = dilation * (kernel - 1) + 1
    pads = resolve_padding(padding, source.size, kernel_extent, stride)
    left = pads[0] if pads is not None else 0
    period = source.period // math.gcd(source.period, stride)
    taps = [tap * dilation for tap in range(kernel)]
    out_size = size if size is not None else window_output_size(
        source.size, pads, kernel_extent, stride, padding)
    result = transform(
        source,
        lambda o: [o * stride - left + tap for tap in taps],
        period,
        period * stride,
        out_size,
        offset_known=pads is not None,
    )
    return result, pads


def transposed_window(
    source: AxisMap,
    kernel: int,
    stride: int,
    dilation: int = 1,
    padding: str = "valid",
    size: int | None = None,
) -> tuple[AxisMap, tuple[int, int] | None]:
    """Transposed conv along one axis: the adjoint of a conv from `size` to `source.size`.

    Output `o` receives input `i` when `o = i*s - p_L + t*d` for a tap `t`; p_L is the left
    padding of that forward conv (0 for 'valid', TF's 'same' rule otherwise).
    """
    kernel_extent = dilation * (kernel - 1) + 1
    pads: tuple[int, int] | None
    if padding == "valid":
        pads = (0, 0)
    elif source.size is None or size is None:
        pads = None
    else:
        total = max((source.size - 1) * stride + kernel_extent - size, 0)
        pads = (total // 2, total - total // 2)
    left = pads[0] if pads is not None else 0
    taps = [tap * dilation for tap in range(kernel)]

    def contributors(o: int) -> list[int]:
        return [(o + left - tap) // stride for tap in taps if (o + left - tap) % stride == 0]

    result = transform(source, contributors, source.period * stride, source.period, size,
                       offset_known=pads is not None)
    return result, pads


def upsample(source: AxisMap, factor: int, interpolation: str = "nearest") -> AxisMap:
    """UpSampling by an integer factor: nearest copies, bilinear (half-pixel centres) blends
    the two nearest inputs (only one where the sample falls exactly on an input pixel)."""
    return resize(source, factor, 1, interpolation)


def resize(source: AxisMap, numerator: int, denominator: int = 1,
           interpolation: str = "nearest") -> AxisMap:
    """Resizing by the ratio `numerator / denominator` (output / input size) with half-pixel
    centres, as `keras.layers.Resizing` and `UpSampling2D` do: output `o` samples the input at
    c = (o + 1/2) * denominator / numerator - 1/2. Nearest reads the pixel holding c, bilinear
    the two around it (one where c falls on a pixel). Edges are clamped by the layer; the map
    describes the interior pattern, which repeats every `numerator` outputs."""
    ratio = Fraction(numerator, denominator)
    numerator, denominator = ratio.numerator, ratio.denominator
    size = None if source.size is None else source.size * numerator // denominator
    if interpolation == "nearest":
        def contributors(o: int) -> list[int]:
            return [math.floor(Fraction(2 * o + 1, 2) / ratio)]
    elif interpolation == "bilinear":
        def contributors(o: int) -> list[int]:
            position = Fraction(2 * o + 1, 2) / ratio - Fraction(1, 2)
            low = math.floor(position)
            return [low] if position == low else [low, low + 1]
    else:
        raise ValueError(
            f"Unsupported interpolation {interpolation!r} for receptive fields: expected "
            f"'nearest' or 'bilinear'. Register the layer's geometry with register_geometry."
        )
    return transform(source, contributors, source.period * numerator,
                     source.period * denominator, size)


def whole_extent(source: AxisMap) -> AxisMap:
    """One output unit that sees every input position (global pooling, Flatten → Dense)."""
    if source.size is None:
        return AxisMap(1, 0, (None,), 1, offset_known=False)
    seen = [source.extent(position) for position in range(source.size)]
    seen = [extent for extent in seen if extent is not None]
    extent = (min(e[0] for e in seen), max(e[1] for e in seen)) if seen else None
    return AxisMap(1, 0, (extent,), 1, source.offset_known)


def union(sources: Sequence[AxisMap]) -> tuple[AxisMap, bool]:
    """Element-wise merge of same-sized tensors: each output sees the union of its inputs.

    Returns the merged map and whether the inputs were aligned (same jump and same start).
    With different jumps the pattern of the union is only exact near unit 0.
    """
    jumps = {source.jump for source in sources}
    starts = {source.start for source in sources}
    aligned = len(jumps) == 1 and len(starts) == 1
    period = math.lcm(*(source.period for source in sources))
    # Equal jumps give every input the same shift per common period; unequal ones take the
    # largest (the union is then exact only near unit 0).
    shift = max(period // source.period * source.shift for source in sources)
    extents = []
    for position in range(period):
        seen = [source.extent(position) for source in sources]
        seen = [extent for extent in seen if extent is not None]
        extents.append((min(e[0] for e in seen), max(e[1] for e in seen)) if seen else None)
    size = next((source.size for source in sources if source.size is not None), None)
    known = all(source.offset_known for source in sources)
    return AxisMap(period, shift, tuple(extents), size, known), aligned
