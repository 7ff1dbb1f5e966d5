"""Lab 6, Losses: what MSE, MAE, binary and categorical cross-entropy measure, why squares,
maximum likelihood, and saturation."""
