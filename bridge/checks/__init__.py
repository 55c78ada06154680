"""Self-checks on every resolve, and `bridge doctor`, which runs them and everything else between gateway and secret."""
