"""brickbook's side of the benchmarks that no single ``brickbook`` command covers, and the load generator."""
