"""The NumPy engine behind CNN Playground: arrays in, arrays out.

engine.conv holds convolution in 1-3 spatial dimensions (PyTorch conventions) and its helpers;
engine.kernels the named filters. Nothing here touches the web, images or files.

Import from the submodules (``from engine.conv import conv2d``): the package re-exports nothing,
since a function named ``conv`` would shadow the ``engine.conv`` module.
"""
