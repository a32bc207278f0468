"""The official databricks-sdk's side of each benchmark: small scripts, each run as its own process."""
