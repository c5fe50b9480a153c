"""How sure an answer is: signals from its token probabilities and text, calibrated per model."""
