"""HTTP handlers, one module per API area: parse the request, call the state, serialise the answer."""
