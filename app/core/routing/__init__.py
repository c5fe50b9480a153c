"""Which model answers: the router before, the cascade during, retries and the ensemble."""
