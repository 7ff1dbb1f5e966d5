"""The Filters lab's kernel parser, filter bank and state round trip."""

import numpy as np
import pytest
from starlette.datastructures import QueryParams

from app.labs.filters.fields import FilterFields as FilterState
from app.media.filterbank import build_bank, format_kernel_text, parse_kernel_text
from app.web.errors import UserError

parse_state = FilterState.parse


def test_fractions_commas_semicolons_and_unicode_minus():
    kernel = parse_kernel_text("1/9, 1/9 ; −2 0.5", channels=1)
    np.testing.assert_allclose(kernel, [[[1 / 9, 1 / 9], [-2, 0.5]]])


def test_one_block_is_shared_by_all_channels_and_three_blocks_are_per_channel():
    shared = parse_kernel_text("1 2\n3 4", channels=3)
    assert shared.shape == (3, 2, 2) and (shared == shared[0]).all()
    per_channel = parse_kernel_text("1\n\n2\n\n3", channels=3)
    np.testing.assert_array_equal(per_channel.ravel(), [1, 2, 3])


@pytest.mark.parametrize(
    ("text", "channels", "fragment"),
    [
        ("1\n\n2", 1, "one block of rows"),
        ("1\n\n2", 3, "one block (used for all three channels) or three blocks"),
        ("1 2\n\n3", 3, "same size"),
        ("1/0", 1, "is not a number"),
        ("x" * 7000, 1, "too long"),
    ],
)
def test_kernel_text_errors(text, channels, fragment):
    with pytest.raises(UserError) as caught:
        parse_kernel_text(text, channels)
    assert fragment in caught.value.message


def test_format_then_parse_round_trips():
    kernel = np.array([[[0.25, -1.5], [3.0, 0.0]]])
    np.testing.assert_allclose(parse_kernel_text(format_kernel_text(kernel), 1), kernel)


def test_bank_centres_small_kernels_and_flips_for_convolution():
    state = FilterState(filters=["sobel_x", "gaussian"], size=5, op="convolve")
    bank, shapes = build_bank(state, channels=1)
    assert bank.shape == (2, 1, 5, 5)
    assert shapes == [(3, 3), (5, 5)]
    assert bank[0, 0, 0].sum() == 0 and bank[0, 0, :, 0].sum() == 0  # zero frame
    # Sobel x flipped by 180°: the positive column is now on the left.
    np.testing.assert_array_equal(bank[0, 0, 2, 1:4], [2, 0, -2])


def test_canonical_query_round_trips():
    state = parse_state(
        QueryParams("sample=dot&f=custom&f=sobel_y&kernel=1+2&stride=2&padding=full&row=3&col=4")
    )
    again = parse_state(QueryParams(state.query()))
    assert again == state
