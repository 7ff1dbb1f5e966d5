"""Drawing on the Training lab's canvas as a student does, with the mouse."""


def draw_a_one(page) -> None:
    """A "1": one vertical stroke down the middle of the canvas."""
    canvas = page.locator("#draw-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x, box["y"] + box["height"] * (0.15 + 0.07 * step))
    page.mouse.up()
