"""Unity Catalog volumes for the Files API tests, made through the emulator's REST API directly."""

from __future__ import annotations

import httpx

UC = "/api/2.1/unity-catalog"


def create_volume(
    url: str, token: str, name: str = "vol", *, catalog: str = "main", schema: str = "default"
) -> None:
    """Create the managed volume ``catalog.schema.name`` (``main.default`` exists in a fresh emulator)."""
    body = {"catalog_name": catalog, "schema_name": schema, "name": name, "volume_type": "MANAGED"}
    response = httpx.post(f"{url}{UC}/volumes", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
