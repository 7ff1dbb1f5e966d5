"""Lab 5, Signals: convolution you can hear (1-D sound), step through (flip and slide) and watch
(3-D video)."""
