"""Cluster specs are checked before clusters/create is sent, each error naming the offending field."""

from __future__ import annotations

from typing import Any

import pytest

from brickbook.errors import UsageError
from brickbook.specs import check_cluster_spec

SPEC: dict[str, Any] = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


@pytest.mark.parametrize(
    "spec",
    [
        SPEC,
        {
            **{k: v for k, v in SPEC.items() if k != "num_workers"},
            "autoscale": {"min_workers": 1, "max_workers": 4},
        },
        {"spark_version": "15.4.x-scala2.12", "is_single_node": True, "kind": "CLASSIC_PREVIEW"},
        {**SPEC, "autotermination_minutes": 0, "custom_tags": {"team": "etl"}, "some_new_field": {"x": 1}},
    ],
)
def test_good_specs_pass(spec: dict[str, Any]):
    """Workers, autoscale or a single node; fields brickbook does not know pass untouched."""
    check_cluster_spec(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"num_workers": 1}, "spec: spark_version is required"),
        ({"spark_version": "15.4.x-scala2.12"}, "spec: one of num_workers or autoscale is required"),
        ({**SPEC, "num_workers": -1}, "spec: num_workers must be an integer >= 0, got -1"),
        ({**SPEC, "num_workers": True}, "spec: num_workers must be an integer >= 0, got True"),
        (
            {**SPEC, "autoscale": {"min_workers": 3, "max_workers": 2}},
            "spec: autoscale.max_workers must be an integer >= 3, got 2",
        ),
        ({**SPEC, "autotermination_minutes": 5}, "must be 0 (never) or an integer from 10 to 10000, got 5"),
        ({**SPEC, "spark_conf": ["a=b"]}, "spec: spark_conf must be an object"),
        (
            {**SPEC, "cluster_id": "0101-000000-abc"},
            "spec: cluster_id must not be set when creating a cluster",
        ),
    ],
)
def test_bad_specs_name_the_field(spec: dict[str, Any], message: str):
    """Each kind of mistake is a usage error naming the field."""
    with pytest.raises(UsageError) as info:
        check_cluster_spec(spec)
    assert message in info.value.message
