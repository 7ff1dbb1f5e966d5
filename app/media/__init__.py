"""What the labs compute on: pictures (images, samples, sources), sounds (wav), animations (gif),
uploads and the bounded caches they live in, and a picture through a filter bank (filterbank)."""
