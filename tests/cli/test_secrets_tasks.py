"""Secrets tasks from the command line against the emulator; values never reach output, logs or errors.

The emulator here runs on a data directory, so a test reads back what was stored through the emulator's
own in-process ``SecretsState.get_value`` over the same SQLite file (the API never returns values).
The values put below are added to the session-wide redaction scan (``tests.conftest.SECRET_VALUES``).
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from brickbook.emulator.server import start_in_thread
from brickbook.emulator.settings import EmulatorSettings
from brickbook.emulator.state.secrets import MAX_VALUE_BYTES, SecretsState
from brickbook.emulator.state.store import Store
from tests.conftest import ADMIN_TOKEN, SECRET_VALUES, USER_TOKEN, Emulator, FakeClock, run_cli

ALICE = "alice@example.com"
STDIN_VALUE = "pw-from-stdin-4e9d1c7b2a"
FILE_VALUE = "pw-from-file-6b3f0a9e81"
PROMPT_VALUE = "pw-from-prompt-d27c5e1f03"
OPTION_VALUE = "pw-from-option-93a8b6e4c1"
DEBUG_VALUE = "pw-debug-path-1f8e7d6c5b"
BINARY_VALUE = b"\xff\xfe-binary-secret-\x00\x01-7a6b"
SECRET_VALUES.extend(
    [
        STDIN_VALUE,
        FILE_VALUE,
        PROMPT_VALUE,
        OPTION_VALUE,
        DEBUG_VALUE,
        base64.b64encode(BINARY_VALUE).decode(),
        base64.b64encode(STDIN_VALUE.encode()).decode(),
    ]
)


@dataclass
class SecretsWorkspace:
    """The emulator (with conftest's tokens) and a reader of its stored secret values."""

    emulator: Emulator
    state: SecretsState

    def stored(self, scope: str, key: str) -> bytes:
        return self.state.get_value(scope, key)

    def calls(self, path: str) -> int:
        return len(self.emulator.requests(f"/api/2.0/secrets/{path}"))


@pytest.fixture(scope="module")
def secrets_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretsWorkspace]:
    clock = FakeClock()
    data_dir = tmp_path_factory.mktemp("secrets-cli-emu")
    settings = EmulatorSettings(
        host="127.0.0.1",
        port=0,
        admin_token=ADMIN_TOKEN,
        admin_user="admin@example.com",
        users={ALICE: USER_TOKEN},
        clock=clock,
        data_dir=data_dir,
    )
    store = Store(data_dir)
    with start_in_thread(settings) as running:
        yield SecretsWorkspace(Emulator(url=running.url, clock=clock), SecretsState(store, clock))
    store.close()


@pytest.fixture
def ws(secrets_server: SecretsWorkspace, isolated_env: pytest.MonkeyPatch) -> SecretsWorkspace:
    """The module's emulator, reset, with DATABRICKS_HOST/TOKEN pointing at it as the admin."""
    secrets_server.emulator.control("POST", "reset")
    isolated_env.setenv("DATABRICKS_HOST", secrets_server.emulator.url)
    isolated_env.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
    return secrets_server


class FakeStdin:
    """What ``secrets.put`` reads: ``.buffer`` bytes and whether stdin is a terminal."""

    def __init__(self, data: bytes = b"", *, tty: bool = False) -> None:
        self.buffer = io.BytesIO(data)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def pipe(monkeypatch: pytest.MonkeyPatch, data: bytes) -> FakeStdin:
    stdin = FakeStdin(data)
    monkeypatch.setattr("sys.stdin", stdin)
    return stdin


def scope(name: str = "etl") -> None:
    result = run_cli("secrets.create-scope", name)
    assert result.exit_code == 0, result.stderr


def put_piped(monkeypatch: pytest.MonkeyPatch, key: str, value: str, scope_name: str = "etl") -> None:
    pipe(monkeypatch, value.encode())
    result = run_cli("secrets.put", scope_name, key)
    assert result.exit_code == 0, result.stderr


def assert_no_values(*texts: str) -> None:
    for text in texts:
        assert not [v for v in SECRET_VALUES if v in text]


# -- scopes --------------------------------------------------------------------------------------------------


def test_list_scopes_shows_created_scopes(ws: SecretsWorkspace):
    """create-scope, then list-scopes prints a table with the scope and its backend."""
    scope("etl")
    result = run_cli("secrets.list-scopes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["NAME", "BACKEND_TYPE"]
    assert result.stdout.splitlines()[1].split() == ["etl", "DATABRICKS"]


def test_list_scopes_json_and_empty(ws: SecretsWorkspace):
    """list-scopes -o json prints [] with no scopes, then the API objects."""
    assert json.loads(run_cli("secrets.list-scopes", "-o", "json").stdout) == []
    scope("etl")
    assert json.loads(run_cli("secrets.list-scopes", "-o", "json").stdout) == [
        {"name": "etl", "backend_type": "DATABRICKS"}
    ]


def test_create_scope_with_users_as_manager(ws: SecretsWorkspace):
    """--initial-manage-principal users grants MANAGE to the users group."""
    result = run_cli("secrets.create-scope", "etl", "--initial-manage-principal", "users")
    assert result.exit_code == 0, result.stderr
    acls = json.loads(run_cli("secrets.list-acls", "etl", "-o", "json").stdout)
    assert {"principal": "users", "permission": "MANAGE"} in acls


def test_create_scope_refuses_another_manage_principal(ws: SecretsWorkspace):
    """--initial-manage-principal takes only 'users' (the API refuses anything else): exit 2, no request."""
    result = run_cli("secrets.create-scope", "etl", "--initial-manage-principal", "admins")
    assert result.exit_code == 2 and "can only be 'users'" in result.stderr
    assert ws.calls("scopes/create") == 0


def test_scope_name_with_a_trailing_newline_is_refused(ws: SecretsWorkspace):
    """'etl\\n' is not a valid scope name (a '$' anchor would have let it through): exit 2, no request."""
    result = run_cli("secrets.create-scope", "etl\n")
    assert result.exit_code == 2 and "invalid scope name 'etl\\n'" in result.stderr
    assert ws.calls("scopes/create") == 0


def test_duplicate_scope_exits_5(ws: SecretsWorkspace):
    """Creating an existing scope exits 5 with the service's 'already exists' message."""
    scope("etl")
    result = run_cli("secrets.create-scope", "etl")
    assert result.exit_code == 5
    assert "RESOURCE_ALREADY_EXISTS: Scope etl already exists!" in result.stderr


def test_bad_scope_name_exits_2_without_a_request(ws: SecretsWorkspace):
    """A scope name the API would refuse exits 2 before any request."""
    result = run_cli("secrets.create-scope", "bad name")
    assert result.exit_code == 2
    assert "invalid scope name 'bad name'" in result.stderr
    assert ws.calls("scopes/create") == 0


def test_delete_scope_removes_it(ws: SecretsWorkspace):
    """delete-scope removes the scope."""
    scope("etl")
    assert run_cli("secrets.delete-scope", "etl").exit_code == 0
    assert json.loads(run_cli("secrets.list-scopes", "-o", "json").stdout) == []


def test_delete_missing_scope_exits_4(ws: SecretsWorkspace):
    """delete-scope of an unknown scope exits 4."""
    result = run_cli("secrets.delete-scope", "nope")
    assert result.exit_code == 4
    assert "Scope nope does not exist" in result.stderr


# -- put: where the value comes from -------------------------------------------------------------------------


def test_put_from_stdin_drops_one_newline(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """A piped value is stored without its trailing newline and never printed."""
    scope()
    pipe(monkeypatch, STDIN_VALUE.encode() + b"\n")
    result = run_cli("secrets.put", "etl", "db-password")
    assert result.exit_code == 0, result.stderr
    assert ws.stored("etl", "db-password") == STDIN_VALUE.encode()
    assert "bytes:" in result.stdout and str(len(STDIN_VALUE)) in result.stdout
    assert_no_values(result.stdout, result.stderr)


def test_put_from_stdin_keeps_binary_bytes(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """Piped bytes that are not UTF-8 are stored exactly."""
    scope()
    pipe(monkeypatch, BINARY_VALUE)
    assert run_cli("secrets.put", "etl", "blob").exit_code == 0
    assert ws.stored("etl", "blob") == BINARY_VALUE


def test_put_from_file_stores_the_bytes_unchanged(
    ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """--file stores the file's bytes as they are, trailing newline included."""
    scope()
    path = tmp_path / "pw.txt"
    path.write_bytes(FILE_VALUE.encode() + b"\n")
    pipe(monkeypatch, b"ignored")
    result = run_cli("secrets.put", "etl", "from-file", "--file", str(path), "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "put": "etl/from-file",
        "scope": "etl",
        "key": "from-file",
        "bytes": len(FILE_VALUE) + 1,
    }
    assert ws.stored("etl", "from-file") == FILE_VALUE.encode() + b"\n"


def test_put_from_hidden_prompt(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """On a terminal with no --file, the value comes from a hidden getpass prompt."""
    scope()
    monkeypatch.setattr("sys.stdin", FakeStdin(tty=True))
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or PROMPT_VALUE)
    result = run_cli("secrets.put", "etl", "typed")
    assert result.exit_code == 0, result.stderr
    assert prompts == ["Secret value (input hidden): "]
    assert ws.stored("etl", "typed") == PROMPT_VALUE.encode()


def test_put_from_string_value_option(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """--string-value stores the value given on the command line."""
    scope()
    pipe(monkeypatch, b"ignored")
    result = run_cli("secrets.put", "etl", "opt", "--string-value", OPTION_VALUE)
    assert result.exit_code == 0, result.stderr
    assert ws.stored("etl", "opt") == OPTION_VALUE.encode()


def test_string_value_help_warns_about_shell_history():
    """`brickbook --help secrets.put` warns that --string-value lands in the shell history."""
    # A real process: invoke lays out option help for the terminal it runs in.
    brickbook = Path(sys.executable).parent / "brickbook"
    shown = subprocess.run([brickbook, "--help", "secrets.put"], capture_output=True, text=True, check=True)
    assert "lands in your shell history" in " ".join(shown.stdout.split())


def test_put_overwrites_an_existing_secret(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """A second put of the same key replaces the value."""
    scope()
    put_piped(monkeypatch, "k", STDIN_VALUE)
    put_piped(monkeypatch, "k", OPTION_VALUE)
    assert ws.stored("etl", "k") == OPTION_VALUE.encode()


# -- put: refusals -------------------------------------------------------------------------------------------


def test_closed_stdin_exits_2_saying_where_the_value_can_come_from(
    ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch
):
    """With stdin closed (sys.stdin is None) put exits 2 naming a pipe and --file, and sends nothing."""
    scope()
    monkeypatch.setattr("sys.stdin", None)
    result = run_cli("secrets.put", "etl", "k")
    assert result.exit_code == 2
    assert (
        "stdin is closed" in result.stderr
        and "--file PATH" in result.stderr
        and "| brickbook" in result.stderr
    )
    assert ws.calls("put") == 0


def test_end_of_input_at_the_prompt_exits_2(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """Ctrl-D at the hidden prompt exits 2 (not 1) and stores nothing."""
    scope()
    monkeypatch.setattr("sys.stdin", FakeStdin(tty=True))

    def end_of_input(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", end_of_input)
    result = run_cli("secrets.put", "etl", "k")
    assert result.exit_code == 2 and "no secret value was typed" in result.stderr
    assert ws.calls("put") == 0


def test_endless_stdin_is_read_only_up_to_the_limit(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """A pipe far over 128 KB (`yes |`) is read only just past the limit, then refused with exit 2."""
    scope()
    stdin = pipe(monkeypatch, b"y\n" * MAX_VALUE_BYTES)
    result = run_cli("secrets.put", "etl", "k")
    assert result.exit_code == 2 and "over the 128 KB" in result.stderr
    assert stdin.buffer.tell() == MAX_VALUE_BYTES + 2
    assert ws.calls("put") == 0


def test_empty_stdin_exits_2_without_a_request(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """An empty piped value (just a newline) exits 2 and stores nothing."""
    scope()
    pipe(monkeypatch, b"\n")
    result = run_cli("secrets.put", "etl", "k")
    assert result.exit_code == 2
    assert "secret value from stdin is empty; nothing was stored" in result.stderr
    assert ws.calls("put") == 0


def test_bad_key_exits_2_before_reading_the_value(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """An invalid key exits 2 without reading stdin or sending anything."""
    scope()
    stdin = pipe(monkeypatch, STDIN_VALUE.encode())
    result = run_cli("secrets.put", "etl", "bad/key")
    assert result.exit_code == 2
    assert "invalid secret key 'bad/key'" in result.stderr
    assert stdin.buffer.tell() == 0
    assert ws.calls("put") == 0


def test_value_over_128_kb_exits_2_without_a_request(
    ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """A file over 128 KB exits 2 before the request is sent."""
    scope()
    path = tmp_path / "big"
    path.write_bytes(b"x" * (MAX_VALUE_BYTES + 1))
    result = run_cli("secrets.put", "etl", "big", "--file", str(path))
    assert result.exit_code == 2
    assert "over the 128 KB" in result.stderr
    assert ws.calls("put") == 0


def test_file_and_string_value_together_exit_2(ws: SecretsWorkspace, tmp_path: Path):
    """--file and --string-value together exit 2."""
    result = run_cli("secrets.put", "etl", "k", "--file", str(tmp_path / "x"), "--string-value", OPTION_VALUE)
    assert result.exit_code == 2
    assert "at most one of --file and --string-value" in result.stderr


def test_unreadable_file_exits_2(ws: SecretsWorkspace, tmp_path: Path):
    """A --file that cannot be read exits 2 naming it."""
    missing = tmp_path / "missing.txt"
    result = run_cli("secrets.put", "etl", "k", "--file", str(missing))
    assert result.exit_code == 2
    assert f"cannot read {missing}" in result.stderr


def test_put_into_a_missing_scope_exits_4_with_a_hint(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """put into an unknown scope exits 4 and says how to create it."""
    pipe(monkeypatch, STDIN_VALUE.encode())
    result = run_cli("secrets.put", "nope", "k")
    assert result.exit_code == 4
    assert "Scope nope does not exist" in result.stderr
    assert result.stderr.rstrip().endswith("; create the scope with: brickbook secrets.create-scope nope")
    assert_no_values(result.stdout, result.stderr)


# -- list and delete -----------------------------------------------------------------------------------------


def test_list_shows_keys_and_times_never_values(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """secrets.list prints each key with its update time as UTC, and no value."""
    scope()
    put_piped(monkeypatch, "db-password", STDIN_VALUE)
    result = run_cli("secrets.list", "etl")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["KEY", "LAST_UPDATED"]
    assert lines[1].startswith("db-password") and lines[1].endswith(" UTC")
    assert_no_values(result.stdout, result.stderr)


def test_list_json_has_the_timestamp_in_ms(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """secrets.list -o json prints the API's metadata objects."""
    scope()
    put_piped(monkeypatch, "k", STDIN_VALUE)
    listed = json.loads(run_cli("secrets.list", "etl", "-o", "json").stdout)
    assert listed == [{"key": "k", "last_updated_timestamp": int(ws.emulator.clock.now * 1000)}]


def test_list_of_a_missing_scope_exits_4(ws: SecretsWorkspace):
    """secrets.list of an unknown scope exits 4."""
    result = run_cli("secrets.list", "nope")
    assert result.exit_code == 4
    assert "Scope nope does not exist" in result.stderr


def test_delete_removes_the_secret(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """secrets.delete removes the key and says so."""
    scope()
    put_piped(monkeypatch, "k", STDIN_VALUE)
    result = run_cli("secrets.delete", "etl", "k")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == ["deleted:", "etl/k"]
    assert json.loads(run_cli("secrets.list", "etl", "-o", "json").stdout) == []


def test_delete_of_a_missing_secret_exits_4(ws: SecretsWorkspace):
    """secrets.delete of an unknown key exits 4."""
    scope()
    result = run_cli("secrets.delete", "etl", "nope")
    assert result.exit_code == 4
    assert "Secret does not exist with scope: etl and key: nope" in result.stderr


# -- ACLs ----------------------------------------------------------------------------------------------------


def test_put_acl_then_list_acls(ws: SecretsWorkspace):
    """put-acl (permission in any case) grants it; list-acls shows it beside the creator's MANAGE."""
    scope()
    assert run_cli("secrets.put-acl", "etl", ALICE, "read").exit_code == 0
    result = run_cli("secrets.list-acls", "etl")
    assert result.exit_code == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [["PRINCIPAL", "PERMISSION"], ["admin@example.com", "MANAGE"], [ALICE, "READ"]]


def test_bad_permission_exits_2_without_a_request(ws: SecretsWorkspace):
    """A permission other than READ, WRITE or MANAGE exits 2 before any request."""
    scope()
    result = run_cli("secrets.put-acl", "etl", ALICE, "OWNER")
    assert result.exit_code == 2
    assert "permission must be READ, WRITE or MANAGE, not 'OWNER'" in result.stderr
    assert ws.calls("acls/put") == 0


def test_empty_principal_exits_2_without_a_request(ws: SecretsWorkspace):
    """An empty or control-character principal exits 2 before any request."""
    scope()
    for principal in ("", " ", "a\nb"):
        result = run_cli("secrets.put-acl", "etl", principal, "READ")
        assert result.exit_code == 2 and "invalid principal" in result.stderr
    assert ws.calls("acls/put") == 0


def test_delete_acl_removes_the_grant(ws: SecretsWorkspace):
    """delete-acl removes the principal's grant."""
    scope()
    run_cli("secrets.put-acl", "etl", ALICE, "WRITE")
    assert run_cli("secrets.delete-acl", "etl", ALICE).exit_code == 0
    acls = json.loads(run_cli("secrets.list-acls", "etl", "-o", "json").stdout)
    assert [a["principal"] for a in acls] == ["admin@example.com"]


def test_delete_of_a_missing_acl_exits_4(ws: SecretsWorkspace):
    """delete-acl for a principal without a grant exits 4."""
    scope()
    result = run_cli("secrets.delete-acl", "etl", ALICE)
    assert result.exit_code == 4
    assert f"No ACL for principal {ALICE}" in result.stderr


def test_user_without_a_grant_exits_3(ws: SecretsWorkspace, isolated_env: pytest.MonkeyPatch):
    """Alice, with no grant on the scope, gets exit 3 naming the permission she lacks."""
    scope()
    isolated_env.setenv("DATABRICKS_TOKEN", USER_TOKEN)
    result = run_cli("secrets.list", "etl")
    assert result.exit_code == 3
    assert f"User {ALICE} does not have READ permission on scope etl" in result.stderr


def test_read_grant_lets_a_user_list_but_not_put(
    ws: SecretsWorkspace, isolated_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch
):
    """With READ, Alice may list the scope; put exits 3 naming WRITE."""
    scope()
    run_cli("secrets.put-acl", "etl", ALICE, "READ")
    isolated_env.setenv("DATABRICKS_TOKEN", USER_TOKEN)
    assert run_cli("secrets.list", "etl").exit_code == 0
    pipe(monkeypatch, STDIN_VALUE.encode())
    result = run_cli("secrets.put", "etl", "k")
    assert result.exit_code == 3
    assert "WRITE permission" in result.stderr


# -- redaction -----------------------------------------------------------------------------------------------


def test_debug_json_error_path_never_prints_the_value(
    ws: SecretsWorkspace, isolated_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch
):
    """A refused put under --debug -o json --log-format json prints the envelope and logs, never the value."""
    scope()
    run_cli("secrets.put-acl", "etl", ALICE, "READ")
    isolated_env.setenv("DATABRICKS_TOKEN", USER_TOKEN)
    monkeypatch.setattr("sys.stdin", FakeStdin(tty=True))
    monkeypatch.setattr("getpass.getpass", lambda prompt: DEBUG_VALUE)
    result = run_cli("secrets.put", "etl", "k", "--debug", "-o", "json", "--log-format", "json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error_code"] == "PERMISSION_DENIED"
    assert "http.request" in result.stderr and "Traceback" in result.stderr
    assert_no_values(result.stdout, result.stderr)


def test_debug_success_path_never_prints_the_value(ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch):
    """A successful put of a string value under --debug logs the call but not the value."""
    scope()
    pipe(monkeypatch, BINARY_VALUE)
    result = run_cli("secrets.put", "etl", "k", "--debug", "-o", "json", "--log-format", "json")
    assert result.exit_code == 0, result.stderr
    assert "http.request" in result.stderr
    assert_no_values(result.stdout, result.stderr)


# -- -o json: every mutation prints what it did --------------------------------------------------------------


def test_mutations_print_one_json_object_naming_what_was_done(
    ws: SecretsWorkspace, monkeypatch: pytest.MonkeyPatch
):
    """create-scope, put, put-acl, delete-acl, delete and delete-scope each print one JSON object."""

    def done(*args: str) -> object:
        result = run_cli(*args, "-o", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    assert done("secrets.create-scope", "etl") == {"created": "etl"}
    pipe(monkeypatch, STDIN_VALUE.encode())
    assert done("secrets.put", "etl", "k")["put"] == "etl/k"  # type: ignore[index]
    assert done("secrets.put-acl", "etl", ALICE, "write") == {
        "granted": "etl",
        "principal": ALICE,
        "permission": "WRITE",
    }
    assert done("secrets.delete-acl", "etl", ALICE) == {"revoked": "etl", "principal": ALICE}
    assert done("secrets.delete", "etl", "k") == {"deleted": "etl/k", "scope": "etl", "key": "k"}
    assert done("secrets.delete-scope", "etl") == {"deleted": "etl"}
    assert done("secrets.create-scope", "ops", "--initial-manage-principal", "users") == {
        "created": "ops",
        "initial_manage_principal": "users",
    }
