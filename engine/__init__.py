"""The NumPy engine behind CNN Playground: arrays in, arrays out.

- conv: convolution in 1-3 spatial dimensions (PyTorch conventions); kernels: the named filters;
- pool, activations: pooling and element-wise functions, with their gradients;
- architecture: the shape calculator; edgenet: a hand-built CNN whose filters have names;
- optim, schedules: optimizers and learning-rate schedules; augment: data augmentation;
- datasets: the bundled digits and the generated shapes.

Nothing here touches the web or images; only engine.datasets reads its own bundled data file.
Import from the submodules (``from engine.conv import conv2d``): the package re-exports nothing,
since a function named ``conv`` would shadow the ``engine.conv`` module.
"""
