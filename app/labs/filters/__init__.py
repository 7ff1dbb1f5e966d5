"""Lab 1, Filters: convolution on a real image, every output number explained."""
