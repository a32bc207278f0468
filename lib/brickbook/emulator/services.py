"""Shared services: the state more than one area uses, built once per app and handed to every area.

An area reads what it shares from ``context.services`` (``AreaContext``) instead of building its own
copy: the clusters a job runs on are the clusters the Clusters API serves, the runs the scheduler
drives are the runs the Jobs API lists. Adding a service is one field here and one line in
``build_services``; a service that keeps anything outside the store (threads, child processes, files,
an engine's own database) implements ``reset()`` (the control API's reset, after the store was
cleared) and ``shutdown()`` (the app stopping, before the store closes).

``envs`` (runtime/envs.py) holds each cluster's Python environment and its libraries:
``services.envs.python_for(cluster_id)`` is the interpreter code on a cluster runs with.

``WarehouseGate`` is what statement execution asks of the SQL warehouses area (see
state/warehouses.py for the behaviour behind it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from brickbook.emulator.runtime.envs import ClusterEnvs, LibrarySources
from brickbook.emulator.runtime.scheduler import Scheduler
from brickbook.emulator.settings import EmulatorSettings
from brickbook.emulator.sql.service import SqlService
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.dbfs import DbfsState
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.state.libraries import LibrariesState
from brickbook.emulator.state.runs import RunsState
from brickbook.emulator.state.store import Store
from brickbook.emulator.state.volume_files import VolumeFiles
from brickbook.emulator.state.warehouses import WarehousesState
from brickbook.emulator.state.workspace import WorkspaceState
from brickbook.emulator.state.workspace_paths import home_names

__all__ = ["Service", "Services", "WarehouseGate", "build_services"]


@runtime_checkable
class Service(Protocol):
    """A shared service with state outside the store."""

    def reset(self) -> None:
        """Forget everything, as the control API's reset does to the store."""

    def shutdown(self) -> None:
        """Release threads, processes and files; the app is stopping."""


class WarehouseGate(Protocol):
    """What a statement needs from the SQL warehouses area before it runs."""

    def require_running(self, warehouse_id: str, *, principal: str) -> None:
        """Return once the warehouse can run a statement for ``principal`` now; else raise ``ApiError``."""

    def note_activity(self, warehouse_id: str) -> None:
        """Record activity on the warehouse, which restarts its auto-stop timer."""


@dataclass(frozen=True)
class Services:
    """Every shared service of one emulator app."""

    workspace: WorkspaceState
    dbfs: DbfsState
    clusters: ClustersState
    runs: RunsState
    scheduler: Scheduler
    warehouses: WarehousesState  # statements see it as a WarehouseGate
    sql: SqlService  # the SQL engine and Unity Catalog: statements, UC routes, volumes for the Files API
    envs: ClusterEnvs  # per-cluster Python environments and their libraries

    @property
    def warehouse_gate(self) -> WarehouseGate:
        """The warehouses as statements see them."""
        return self.warehouses

    def _with_lifecycle(self) -> Iterator[Service]:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Service):
                yield value

    def reset(self) -> None:
        """Reset every service that keeps state outside the store (the store was just cleared)."""
        for service in self._with_lifecycle():
            service.reset()

    def shutdown(self) -> None:
        """Shut every service down, in reverse order of construction."""
        for service in reversed(list(self._with_lifecycle())):
            service.shutdown()


def build_services(
    settings: EmulatorSettings, store: Store, identity: Identity, clock: Callable[[], float]
) -> Services:
    """Build the shared services, and recover what a previous process left unfinished (``kill -9``)."""
    clusters = ClustersState(store, clock, step_seconds=settings.cluster_start_seconds)
    runs = RunsState(store, clock)
    scheduler = Scheduler(runs, clusters, identity, clock)
    scheduler.recover()
    warehouses = WarehousesState(
        store, clock, identity.principal, step_seconds=settings.warehouse_start_seconds
    )
    workspace = WorkspaceState(store, clock, home_names(settings))
    sql = SqlService.from_settings(settings, store, clock, gate=warehouses)

    def sql_task(user_name: str, body: dict[str, Any]) -> str | None:
        def read_file(path: str) -> str:
            return workspace.read_file(path).decode("utf-8", "replace")

        return sql.run_sql_task(identity.principal(user_name), body, read_file=read_file)

    scheduler.sql_tasks = sql_task
    dbfs = DbfsState(store, clock, settings.data_dir, settings.dbfs_delete_batch)
    sources = LibrarySources(dbfs, workspace, VolumeFiles(sql, clock), identity)
    envs_root = Path(settings.data_dir) / "cluster-envs" if settings.data_dir else None
    envs = ClusterEnvs(envs_root, LibrariesState(store), clusters, sources)
    envs.recover()
    scheduler.envs = envs
    return Services(
        workspace=workspace,
        dbfs=dbfs,
        clusters=clusters,
        runs=runs,
        scheduler=scheduler,
        warehouses=warehouses,
        sql=sql,
        envs=envs,
    )
