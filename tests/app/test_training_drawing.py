"""A picture sent to a trained network is framed as its training images are: a real test digit,
photographed as dark ink on white paper, comes back close to the digit the network was tested on.
(Framed at 3/4 of the side, as before, the digits came back small and were read right about one
time in four.)"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.labs.training.drawing import framing, prepare_drawing
from engine.datasets import load_dataset


def as_photo(digit: np.ndarray, zoom: int = 10, margin: int = 40) -> bytes:
    """Dark ink on white, enlarged, with a wide white margin: a picture of the digit."""
    paper = np.pad(np.kron(1 - digit, np.ones((zoom, zoom))), margin, constant_values=1.0)
    out = io.BytesIO()
    Image.fromarray((paper * 255).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()


def test_the_digits_fill_their_frame_and_the_shapes_do_not():
    assert framing(load_dataset("digits", size=16).x_train) == (1.0, "box")
    fill, centre = framing(load_dataset("shapes").x_train)
    assert 0.6 < fill < 0.8 and centre == "mass"


@pytest.mark.parametrize("size", [16, 28])
def test_a_photographed_test_digit_comes_back_as_the_digit(size):
    data = load_dataset("digits", size=size)
    fill, centre = framing(data.x_train)
    similar = []
    for digit in data.x_test[:40, 0]:
        _, prepared = prepare_drawing(as_photo(digit), size, fill=fill, centre=centre)
        similar.append(np.corrcoef(prepared[0].ravel(), digit.ravel())[0, 1])
    assert np.median(similar) > 0.9
