"""State models and rules, one module per API area; nothing here knows about HTTP."""
