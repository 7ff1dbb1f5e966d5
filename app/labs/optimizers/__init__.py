"""Lab 7, Optimizers: GD, SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam racing step by step
on loss surfaces, each with its state in numbers."""
