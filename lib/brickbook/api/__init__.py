"""Primitives: one function per REST endpoint, the client as first argument, typed results."""
