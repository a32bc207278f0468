"""Code the child process runs: the bootstrap, its REST client and the ``dbutils`` shim (stdlib only)."""
