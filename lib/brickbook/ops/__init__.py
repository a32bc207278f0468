"""Idempotent operations composed from primitives: read state, compare, act only on a difference."""
