"""Lab 2b, Pipeline: a real image through a small CNN, every layer's maps, shape, parameters and
receptive field, and the shape calculator."""
