"""The SVG charts: what their axes say."""

import re

from app.web.charts import Series, line_chart


def x_tick_labels(svg: str) -> list[str]:
    """The labels under the plot (text-anchor middle, class tick), left to right."""
    return re.findall(
        r'<text x="[\d.]+" y="[\d.]+" text-anchor="middle" class="tick">([^<]*)<', svg
    )


def test_a_step_axis_is_labelled_with_plain_whole_numbers():
    steps = list(range(1, 2001))
    svg = line_chart([Series("loss", steps, [1.0] * len(steps))], "step", "loss", "Loss")
    labels = x_tick_labels(svg)
    assert labels and all(label.isdigit() for label in labels), labels
    assert "1000" in labels and "1250" in labels


def test_a_count_axis_has_no_fractional_ticks():
    epochs = list(range(1, 21))  # ticks every 2.5 epochs: 7.5 is not an epoch
    svg = line_chart([Series("accuracy", epochs, [0.5] * 20)], "epoch", "accuracy", "Accuracy")
    labels = x_tick_labels(svg)
    assert labels and all(label.isdigit() for label in labels), labels
    assert "5" in labels and "10" in labels


def test_a_measured_axis_keeps_its_decimals():
    svg = line_chart([Series("y", [0.0, 0.5, 19.0], [0.0, 1.0, 2.0])], "x", "y", "Y")
    assert "7.5" in x_tick_labels(svg)


def test_points_that_are_not_numbers_are_left_out():
    """An empty validation set's accuracy is NaN every epoch: no dot or line for it, and the
    other series keep their own scale."""
    nan = float("nan")
    train = Series("training", [1, 2, 3], [0.5, 0.75, 1.0])
    validation = Series("validation", [1, 2, 3], [nan, nan, nan])
    svg = line_chart([train, validation], "epoch", "accuracy", "Accuracy")
    assert "nan" not in svg.lower()
    assert svg.count("<circle") == 3  # the training series' dots only
    both = line_chart([train, Series("validation", [1, 2, 3], [nan, 0.6, 0.7])], "e", "a", "A")
    assert both.count("<circle") == 5 and "nan" not in both.lower()
