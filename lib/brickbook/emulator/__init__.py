"""A local stand-in for a Databricks workspace: real HTTP, real auth rules, injectable faults.

Run it with ``python -m brickbook.emulator`` (or ``brickbook-emulator``), or in-process for tests::

    from brickbook.emulator.server import start_in_thread
    from brickbook.emulator.settings import EmulatorSettings

    with start_in_thread(EmulatorSettings(port=0, admin_token="...")) as emu:
        ...  # talk HTTP to emu.url

The emulator stands apart: it imports nothing from the rest of brickbook and nothing there imports it.
Importing this package is cheap; starlette and uvicorn load only with ``app`` and ``server``.
"""

from __future__ import annotations
