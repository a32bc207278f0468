"""Build a real, tiny wheel in a test (zipfile only: no network, no build backend) and a closed index.

``wheel(...)`` returns ``(file name, bytes)`` of a pure-Python wheel holding one package with the given
module source, and ``entry_points.txt`` console scripts. ``offline_pip`` points pip at a loopback port
nothing listens on, with no config file or find-links, so a PyPI install fails at once and always.
"""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import zipfile

import pytest

__all__ = ["offline_pip", "wheel"]

GREET = (
    "import sys\n\n"
    "def main():\n"
    "    print('hello from the wheel', sys.argv[1:])\n\n"
    "def shout():\n"
    "    print('SHOUT', ' '.join(sys.argv[1:]).upper())\n\n"
    "def fail():\n"
    "    raise RuntimeError('the wheel failed on purpose')\n"
)


def wheel(
    name: str = "greet_emu",
    version: str = "0.1",
    *,
    source: str = GREET,
    scripts: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """A wheel for package ``name`` (module ``name/__init__.py`` = ``source``) with console scripts."""
    scripts = {"greet": f"{name}:main", "boom": f"{name}:fail"} if scripts is None else scripts
    info = f"{name}-{version}.dist-info"
    entry_points = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())
    files = {
        f"{name}/__init__.py": source,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": entry_points,
    }
    record = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            data = text.encode()
            archive.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return f"{name}-{version}-py3-none-any.whl", buffer.getvalue()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: nothing listens there


def offline_pip(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make every index lookup of pip (in this process's children) fail fast; return the index URL."""
    url = f"http://127.0.0.1:{_closed_port()}/simple"
    monkeypatch.setenv("PIP_INDEX_URL", url)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(name, raising=False)
    return url
