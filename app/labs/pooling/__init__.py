"""Lab 2a, Pooling: max and average pooling with the winning cells, three ways to halve a map, and
a translation-invariance experiment."""
