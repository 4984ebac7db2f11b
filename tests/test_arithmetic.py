"""The lectures' worked numbers, pinned."""

import numpy as np
import pytest

from cnn_course.concepts import arithmetic as ar

X = np.arange(9).reshape(3, 3)
K = np.array([[0, 1], [2, 3]])


def test_corr2d_lecture_example():
    np.testing.assert_array_equal(ar.corr2d(X, K), [[19, 25], [37, 43]])


def test_corr2d_with_padding_and_stride():
    np.testing.assert_array_equal(ar.corr2d(X, K, stride=(3, 2), padding=1), [[0, 8], [6, 8]])


def test_corr2d_two_input_channels():
    x = np.stack([X, X + 1])
    k = np.stack([K, np.array([[1, 2], [3, 4]])])
    np.testing.assert_array_equal(ar.corr2d_multi_in(x, k), [[56, 72], [104, 120]])


def test_corr2d_multi_in_out_stacks_output_channels():
    x = np.stack([X, X + 1])
    k = np.stack([K, np.array([[1, 2], [3, 4]])])
    k = np.stack([k, k + 1, k + 2])
    y = ar.corr2d_multi_in_out(x, k)
    assert y.shape == (3, 2, 2)
    np.testing.assert_array_equal(y[0], [[56, 72], [104, 120]])


def test_one_by_one_conv_is_a_per_pixel_dense_layer():
    rng = np.random.default_rng(0)
    x, k = rng.random((3, 4, 5)), rng.random((2, 3, 1, 1))
    dense = k[:, :, 0, 0] @ x.reshape(3, -1)
    np.testing.assert_allclose(ar.corr2d_multi_in_out(x, k), dense.reshape(2, 4, 5))


def test_dilated_corr2d_spreads_the_kernel():
    x = np.arange(25).reshape(5, 5)
    y = ar.corr2d(x, np.ones((2, 2)), dilation=2)
    assert y.shape == (3, 3) and y[0, 0] == 0 + 2 + 10 + 12


@pytest.mark.parametrize("n, k, padding, stride, expected", [
    (3, 3, 0, 1, 1), (3, 3, 1, 1, 3), (5, 3, 1, 2, 3), (32, 5, 0, 1, 28),
    (5, 4, 2, 1, 6), (6, 3, 1, 2, 3)])
def test_conv_output_size(n, k, padding, stride, expected):
    assert ar.conv_output_size(n, k, stride=stride, padding=padding) == expected


def test_dilated_output_size():
    assert ar.conv_output_size(7, 3, dilation=2) == 3


def test_shrinking_stacks():
    size = 32
    for _ in range(7):
        size = ar.conv_output_size(size, 5)
    assert size == 4
    # Each valid 5x5 conv removes k - 1 = 4 pixels: (224 - 4) / 4 = 55 layers. The lecture's
    # "44" divides 220 by the kernel size (5) instead of k - 1; 32 -> 4 in 7 layers (above)
    # follows the same -4 rule.
    assert ar.layers_to_reach(224, 5, 4) == 55
    assert ar.layers_to_reach(32, 5, 4) == 7


@pytest.mark.parametrize("n, k, stride, padding, output_padding, expected", [
    (3, 3, 2, 1, 0, 5), (3, 3, 2, 1, 1, 6), (2, 3, 1, 0, 0, 4)])
def test_transposed_output_size(n, k, stride, padding, output_padding, expected):
    assert ar.transposed_output_size(n, k, stride, padding, output_padding) == expected


def test_transposed_size_inverts_conv_size():
    for n in range(3, 12):
        out = ar.conv_output_size(n, 3, stride=2, padding=1)
        assert ar.transposed_output_size(out, 3, 2, 1, output_padding=(n + 1) % 2) == n


def test_depthwise_separable_versus_normal_parameters():
    assert ar.depthwise_separable_params(16, 32, 3) == 656
    assert ar.conv_params(16, 32, 3, bias=False) == 4608


@pytest.mark.parametrize("c_in, c_out, groups", [(3, 8, 2), (4, 6, 4), (-16, 32, 1), (16, 32, 0)])
def test_conv_counts_refuse_channels_and_groups_no_layer_has(c_in, c_out, groups):
    with pytest.raises(ValueError, match=f"received c_in={c_in}, c_out={c_out}, groups={groups}"):
        ar.conv_params(c_in, c_out, 3, groups=groups)
    with pytest.raises(ValueError, match="groups divides both channel counts"):
        ar.conv_macs(8, 3, c_in, c_out, groups=groups)


def test_sobel_is_separable():
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    column, row = ar.rank_one_factors(sobel)
    np.testing.assert_allclose(column, [1, 2, 1])
    np.testing.assert_allclose(row, [-1, 0, 1], atol=1e-12)
    with pytest.raises(ValueError, match="not 1: it is not separable"):
        ar.rank_one_factors(np.eye(3))


def test_one_gigaflop_conv_layer():
    macs = ar.conv_macs(64, 5, 100, 100)
    assert macs == 1_024_000_000  # ≈ 1 G multiply-accumulates ...
    assert ar.conv_flops(64, 5, 100, 100) == 2 * macs  # ... ≈ 2 GFLOPs
    assert ar.macs_to_gflops(macs) == pytest.approx(2.048)


def test_corr2d_refuses_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match="does not fit"):
        ar.corr2d(np.ones((2, 2)), np.ones((3, 3)))


def test_stride2_k3_transposed_overlap_is_a_checkerboard():
    counts = ar.transposed_overlap_counts(4, 3, 2)
    assert counts.shape == (9, 9)
    np.testing.assert_array_equal(counts[3, 1:8], [1, 2, 1, 2, 1, 2, 1])
    np.testing.assert_array_equal(counts[4, 1:8], [2, 4, 2, 4, 2, 4, 2])
    assert counts[2, 2] == 4 and counts[1, 1] == 1
    even = ar.transposed_overlap_counts(4, 4, 2)[2:-2, 2:-2]
    assert (even == 4).all()


def test_classic_kernels_on_a_constant_image():
    image = np.full((5, 5), 0.5)
    assert np.allclose(ar.corr2d(image, ar.CLASSIC_KERNELS["Gaussian blur"]), 0.5)
    assert np.allclose(ar.corr2d(image, ar.CLASSIC_KERNELS["vertical edge (Sobel x)"]), 0)
    assert np.allclose(ar.corr2d(image, ar.CLASSIC_KERNELS["sharpen"]), 0.5)


def test_grayscale_of_uint8_rgb():
    image = np.zeros((2, 2, 3), np.uint8)
    image[..., 1] = 255
    np.testing.assert_allclose(ar.grayscale(image), 0.587)


@pytest.mark.parametrize("k, stride, received", [(3, 0, "3, 0, 1"), (0, 1, "0, 1, 1")])
def test_a_window_or_stride_of_zero_is_refused_in_words(k, stride, received):
    with pytest.raises(ValueError, match=f"k, stride and dilation are at least 1; received "
                                         f"{received}"):
        ar.conv_output_size(8, k, stride=stride)


@pytest.mark.parametrize("k, padding", [(1, 0), (3, 1)])
def test_layers_that_never_shrink_the_size_are_refused_instead_of_looping(k, padding):
    with pytest.raises(ValueError, match="it never shrinks to 5"):
        ar.layers_to_reach(8, k, 5, padding=padding)


def test_a_window_larger_than_the_padded_input_is_refused_instead_of_a_negative_size():
    with pytest.raises(ValueError, match="A window of 5 .* size of 3 padded by 0 and 0: the "
                                         "output would be -1 wide"):
        ar.conv_output_size(3, 5)
    assert ar.conv_output_size(3, 5, padding=1) == 1


@pytest.mark.parametrize("k, stride", [(3, 0), (0, 2)])
def test_transposed_sizes_refuse_a_kernel_or_stride_of_zero(k, stride):
    with pytest.raises(ValueError, match=f"received {k}, {stride}"):
        ar.transposed_output_size(4, k, stride)
    with pytest.raises(ValueError, match=f"received {k}, {stride}"):
        ar.transposed_overlap_counts(4, k, stride)


@pytest.mark.parametrize("call, words", [
    (lambda: ar.transposed_output_size(2, 3, 1, padding=5), "the output would be -6 wide"),
    (lambda: ar.conv_params(3, 8, 0), "A kernel is at least 1x1; received k=0"),
    (lambda: ar.depthwise_separable_params(3, 8, (3, 0)), "A kernel is at least 1x1"),
    (lambda: ar.conv_macs(-4, 3, 3, 8), "received output_hw=-4, k=3"),
    (lambda: ar.rank_one_factors(np.ones((3, 3, 3))), "takes a 2-D kernel; received shape"),
])
def test_sizes_no_layer_has_are_refused_not_counted(call, words):
    """A negative size, a 0x0 kernel or an output of -4 positions gave a number."""
    with pytest.raises(ValueError, match=words):
        call()
