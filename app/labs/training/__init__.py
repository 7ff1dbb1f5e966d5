"""Lab 3, Training: a tiny CNN trained live in a worker process, and everything inside it."""
