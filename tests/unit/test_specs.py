"""Loading specs from --json / --file and checking their fields: every problem is one UsageError line."""

from __future__ import annotations

from pathlib import Path

import pytest

from brickbook.errors import UsageError
from brickbook.specs import (
    INTEGER,
    OBJECT,
    STRING,
    integer,
    load_spec,
    one_of,
    optional,
    require,
    require_one_of,
)


def test_inline_json_is_loaded():
    """--json takes inline JSON."""
    assert load_spec('{"spark_version": "15.4.x-scala2.12"}', None) == {"spark_version": "15.4.x-scala2.12"}


def test_at_path_reads_a_json_file(tmp_path: Path):
    """--json @path reads the JSON from that file."""
    path = tmp_path / "spec.json"
    path.write_text('{"num_workers": 2}')
    assert load_spec(f"@{path}", None) == {"num_workers": 2}


@pytest.mark.parametrize("name", ["spec.yaml", "spec.yml", "SPEC.YML"])
def test_file_reads_yaml(tmp_path: Path, name: str):
    """--file reads .yaml and .yml files (any case)."""
    path = tmp_path / name
    path.write_text("spark_version: 15.4.x-scala2.12\nautoscale:\n  min_workers: 1\n  max_workers: 3\n")
    assert load_spec(None, str(path)) == {
        "spark_version": "15.4.x-scala2.12",
        "autoscale": {"min_workers": 1, "max_workers": 3},
    }


def test_file_reads_json(tmp_path: Path):
    """--file reads a .json file as JSON."""
    path = tmp_path / "spec.json"
    path.write_text('{"a": 1}')
    assert load_spec(None, str(path)) == {"a": 1}


@pytest.mark.parametrize(("json_value", "file"), [(None, None), ("{}", "spec.yaml")])
def test_exactly_one_source_is_required(json_value: str | None, file: str | None):
    """Neither or both of --json and --file is a usage error."""
    with pytest.raises(UsageError, match="exactly one of --json"):
        load_spec(json_value, file)


def test_bad_inline_json_names_line_and_column():
    """Invalid inline JSON says --json, the line and the column."""
    with pytest.raises(UsageError, match=r"--json: not valid JSON at line 1 column 17"):
        load_spec('{"num_workers": }', None)


def test_bad_json_file_names_the_file(tmp_path: Path):
    """Invalid JSON in a file names the file, line and column."""
    path = tmp_path / "broken.json"
    path.write_text('{\n  "a": 1,\n}')
    with pytest.raises(UsageError, match=rf"{path}: not valid JSON at line 3 column 1"):
        load_spec(f"@{path}", None)


def test_bad_yaml_names_the_file_line_and_column(tmp_path: Path):
    """Invalid YAML names the file and where the parser stopped."""
    path = tmp_path / "broken.yaml"
    path.write_text("a: [1,\nb: 2\n")
    with pytest.raises(UsageError, match=rf"{path}: not valid YAML at line \d+ column \d+"):
        load_spec(None, str(path))


def test_missing_file_is_a_usage_error(tmp_path: Path):
    """A file that cannot be read is a usage error naming it."""
    with pytest.raises(UsageError, match=r"cannot read .*nope\.json"):
        load_spec(f"@{tmp_path / 'nope.json'}", None)


def test_unknown_file_extension_is_refused(tmp_path: Path):
    """--file only takes .json, .yaml or .yml."""
    with pytest.raises(UsageError, match=r"must end in \.json, \.yaml or \.yml"):
        load_spec(None, str(tmp_path / "spec.toml"))


@pytest.mark.parametrize(("text", "kind"), [("[1, 2]", "a list"), ('"x"', "a string"), ("null", "null")])
def test_top_level_must_be_an_object(text: str, kind: str):
    """A spec whose top level is not an object is refused, saying what it was."""
    with pytest.raises(UsageError, match=f"must be an object .* not {kind}"):
        load_spec(text, None)


def test_require_names_a_missing_field():
    """A missing required field: 'spec: <field> is required'."""
    with pytest.raises(UsageError, match=r"^spec: spark_version is required$"):
        require({}, "spark_version", STRING)


def test_require_names_a_wrong_value():
    """A value of the wrong kind: 'spec: <field> must be <kind>, got <value>'."""
    with pytest.raises(UsageError, match=r"^spec: num_workers must be an integer >= 0, got 'two'$"):
        require({"num_workers": "two"}, "num_workers", integer(minimum=0))


def test_booleans_are_not_integers():
    """JSON true is not accepted where a number is expected."""
    with pytest.raises(UsageError, match="must be an integer, got True"):
        require({"n": True}, "n", INTEGER)


def test_nested_and_indexed_paths():
    """Field paths follow dots and [index] into nested specs."""
    spec = {"tasks": [{"new_cluster": {"num_workers": 3}}]}
    assert require(spec, "tasks[0].new_cluster.num_workers", integer(minimum=0)) == 3
    with pytest.raises(UsageError, match=r"spec: tasks\[1\].task_key is required"):
        require(spec, "tasks[1].task_key", STRING)


def test_optional_absent_is_none_and_present_is_checked():
    """optional returns None when absent and still checks a present value."""
    assert optional({}, "spark_conf", OBJECT) is None
    with pytest.raises(UsageError, match="spark_conf must be an object"):
        optional({"spark_conf": []}, "spark_conf", OBJECT)


def test_bounded_integer_and_one_of():
    """integer(min, max) and one_of describe their bounds in the message."""
    with pytest.raises(UsageError, match="an integer from 10 to 10000, got 5"):
        require({"m": 5}, "m", integer(10, 10000))
    with pytest.raises(UsageError, match='one of "ASC", "DESC"'):
        require({"order": "UP"}, "order", one_of("ASC", "DESC"))


def test_require_one_of():
    """require_one_of wants at least one field, and only one when exclusive."""
    assert require_one_of({"autoscale": {}}, "num_workers", "autoscale") == ["autoscale"]
    with pytest.raises(UsageError, match="spec: one of num_workers or autoscale is required"):
        require_one_of({}, "num_workers", "autoscale")
    with pytest.raises(UsageError, match="give only one of"):
        require_one_of({"num_workers": 1, "autoscale": {}}, "num_workers", "autoscale")
    assert require_one_of({"num_workers": 1, "autoscale": {}}, "num_workers", "autoscale", exclusive=False)
