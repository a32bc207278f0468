"""Benchmarks: speed and memory measured against the emulator over loopback (``invoke bench``)."""
