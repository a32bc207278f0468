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


def yaml_spec(tmp_path: Path, text: str) -> dict[str, object]:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return load_spec(None, str(path))


def test_yaml_dates_stay_the_text_written(tmp_path: Path):
    """A YAML date or timestamp is loaded as the string written, not a date (which JSON cannot carry)."""
    spec = yaml_spec(tmp_path, "run_name: 2026-11-26\nwhen: 2026-11-26 10:00:00\n")
    assert spec == {"run_name": "2026-11-26", "when": "2026-11-26 10:00:00"}


def test_yaml_scalars_in_string_fields_keep_their_text(tmp_path: Path):
    """Where the API wants strings (string maps and lists, parameter defaults), on/05/1:30 stay text."""
    spec = yaml_spec(
        tmp_path,
        "tasks:\n"
        "  - notebook_task: {base_parameters: {day: 2026-11-26, flag: on, n: 05, t: 1:30, none: ~}}\n"
        "    spark_python_task: {parameters: [--n, 5, yes]}\n"
        "    new_cluster: {spark_conf: {spark.speculation: true, 7: seven}}\n"
        "parameters:\n  - {name: n, default: 5}\n"
        "timeout_seconds: 05\nmax_retries: 1:30\nenabled: on\n",
    )
    task = spec["tasks"][0]  # type: ignore[index]
    assert task["notebook_task"]["base_parameters"] == {
        "day": "2026-11-26",
        "flag": "on",
        "n": "05",
        "t": "1:30",
        "none": None,
    }
    assert task["spark_python_task"]["parameters"] == ["--n", "5", "yes"]
    assert task["new_cluster"]["spark_conf"] == {"spark.speculation": "true", "7": "seven"}
    assert spec["parameters"] == [{"name": "n", "default": "5"}]
    # Elsewhere YAML keeps its types: numbers are numbers, booleans booleans.
    assert (spec["timeout_seconds"], spec["max_retries"], spec["enabled"]) == (5, 90, True)


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("!!set {a, b}", "!!set"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!timestamp 2026-11-26", "!!timestamp"),
        ("!!python/object:os.system {}", "!!python/object:os.system"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!!omap [{a: 1}]", "!!omap"),
        ("!custom x", "!custom"),
    ],
)
def test_yaml_types_json_cannot_carry_are_refused_naming_the_field(tmp_path: Path, value: str, what: str):
    """A tagged YAML value JSON cannot carry is a usage error naming the field path, line and tag."""
    text = f"tasks:\n  - notebook_task:\n      base_parameters:\n        day: {value}\n"
    with pytest.raises(UsageError) as caught:
        yaml_spec(tmp_path, text)
    message = str(caught.value)
    assert message.startswith(
        f"{tmp_path / 'spec.yaml'}: tasks[0].notebook_task.base_parameters.day (line 4): "
    )
    assert f"{what} cannot be sent to the API as JSON" in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: {1: x}\n", r"a \(line 1\): keys must be strings, not '1' \(int\); quote it"),
        ("a: {null: x}\n", r"keys must be strings, not 'null' \(null\)"),
        ("a: {? [x]: y}\n", r"keys must be strings, not lists or mappings"),
        ("a: 1\nb: 2\na: 3\n", r"a \(line 3\): this key appears twice in one mapping"),
        ("a: .inf\n", r"a \(line 1\): \.inf cannot be sent: JSON has no infinity or NaN"),
        ("a: .nan\n", r"JSON has no infinity or NaN"),
        ("a: " + "1" * 5000 + "\n", r"a \(line 1\): Exceeds the limit \(4300 digits\)"),
    ],
)
def test_yaml_keys_and_numbers_json_cannot_carry_are_refused(tmp_path: Path, text: str, problem: str):
    """Non-string or duplicate keys, infinities and oversized integers are usage errors naming the field."""
    with pytest.raises(UsageError, match=problem):
        yaml_spec(tmp_path, text)


def test_yaml_aliases_are_refused_naming_the_line(tmp_path: Path):
    """An alias (the billion-laughs building block) is refused with the file and its line."""
    with pytest.raises(
        UsageError, match=r"spec\.yaml: line 2 column 8: YAML aliases \(\*a\) are not allowed"
    ):
        yaml_spec(tmp_path, 'a: &a ["lol", "lol"]\nb: &b [*a, *a]\nc: [*b, *b]\n')


def test_yaml_anchors_without_aliases_are_fine(tmp_path: Path):
    """An anchor nobody refers to changes nothing."""
    assert yaml_spec(tmp_path, "a: &x [1]\n") == {"a": [1]}


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 64 + "]" * 64 + "\n",  # flow style
        "".join("  " * i + f"k{i}:\n" for i in range(64)) + "  " * 64 + "v: 1\n",  # block style
        "[" * 1_000_000,  # a megabyte of brackets: refused at level 65, not after parsing it all
    ],
)
def test_yaml_nesting_is_capped(tmp_path: Path, text: str):
    """YAML nested deeper than 64 levels is a usage error naming the limit (never a RecursionError)."""
    with pytest.raises(
        UsageError, match=r"spec\.yaml: line \d+ column \d+: the spec is nested deeper than 64 levels"
    ):
        yaml_spec(tmp_path, text)


def test_nesting_up_to_the_limit_is_accepted(tmp_path: Path):
    """64 levels of lists and mappings are fine in JSON and YAML alike."""
    nested = "[" * 63 + "]" * 63
    assert load_spec('{"a": ' + nested + "}", None) == yaml_spec(tmp_path, "a: " + nested + "\n")


@pytest.mark.parametrize("depth", [65, 900, 5000, 1_000_000])
def test_json_nesting_is_capped(depth: int):
    """JSON nested deeper than 64 levels is a usage error naming the limit (never a RecursionError)."""
    text = '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    with pytest.raises(UsageError, match=r"^--json: the spec is nested deeper than 64 levels"):
        load_spec(text if len(text) < 1_000_000 else "[" * 1_000_000, None)


def test_depth_error_line_stays_short():
    """The path named for a too-deep spec is cut to fit the one error line."""
    with pytest.raises(UsageError) as caught:
        load_spec('{"a": ' + "[" * 900 + "]" * 900 + "}", None)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": 1e999}', "1e999 is not a JSON number"),
        ('{"a": ' + "1" * 5000 + "}", r"not valid JSON: Exceeds the limit \(4300 digits\)"),
        ('{"a": 1, "a": 2}', "the key 'a' appears twice in one object"),
        ('{"a": "\\udcff"}', "a is not valid Unicode text"),
        ('{"a": "\udcff"}', "a is not valid Unicode text"),  # an argument that was not UTF-8
    ],
)
def test_json_that_is_not_plain_json_is_refused(text: str, problem: str):
    """NaN, infinities, oversized integers, duplicate keys and lone surrogates are usage errors."""
    with pytest.raises(UsageError, match=f"^--json: {problem}"):
        load_spec(text, None)


def test_inline_json_over_the_size_limit_is_refused():
    """--json larger than 1 MiB is refused before it is parsed."""
    with pytest.raises(UsageError, match=r"^--json is larger than 1 MiB"):
        load_spec('{"a": "' + "x" * (1 << 20) + '"}', None)


@pytest.mark.parametrize("option", ["--json", "--file"])
def test_spec_files_over_the_size_limit_are_refused(tmp_path: Path, option: str):
    """A spec file over 1 MiB is refused naming the file, whichever option names it."""
    path = tmp_path / "big.json"
    path.write_text('{"a": "' + "x" * (1 << 20) + '"}')
    with pytest.raises(UsageError, match=rf"^{option}: {path} is larger than 1 MiB"):
        load_spec(f"@{path}", None) if option == "--json" else load_spec(None, str(path))


def test_an_endless_file_is_cut_off():
    """--json @/dev/zero reads no more than the limit (a size the file claims is not trusted)."""
    with pytest.raises(UsageError, match=r"^--json: /dev/zero is larger than 1 MiB"):
        load_spec("@/dev/zero", None)


def test_a_directory_is_not_a_spec(tmp_path: Path):
    """A directory named as the spec is a usage error naming it."""
    folder = tmp_path / "spec.yaml"
    folder.mkdir()
    with pytest.raises(UsageError, match=rf"^--file: cannot read {folder}: Is a directory"):
        load_spec(None, str(folder))


@pytest.mark.parametrize(("json_value", "file"), [("@", None), (None, "")])
def test_an_empty_file_name_is_refused(json_value: str | None, file: str | None):
    """--json @ and --file '' say a file name is needed (not 'cannot read : Is a directory')."""
    with pytest.raises(UsageError, match=r"^--json @FILE and --file FILE need a file name$"):
        load_spec(json_value, file)


def test_unprintable_file_names_are_escaped_in_the_message(tmp_path: Path):
    """A newline in a spec's file name cannot split the one error line."""
    with pytest.raises(UsageError) as caught:
        load_spec(f"@{tmp_path}/a\nb.json", None)
    assert "\n" not in str(caught.value) and "a\\nb.json" in str(caught.value)
