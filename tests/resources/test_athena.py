"""The Athena workgroup on moto (with the sandbox's athena_ops: GetWorkGroup's not-found and
UpdateWorkGroup as AWS has them): ensure twice, delete twice, drift put back, ownership."""

from __future__ import annotations

from typing import Any

import pytest
from support.plan import names
from support.requests import Requests

from wcpipe.core.errors import NotOwnedError
from wcpipe.provision.resources.athena import Workgroup
from wcpipe.provision.resources.base import Context
from wcpipe.sandbox.patches import athena_ops

RESULTS = "s3://wcpipe-fifa-123456789012-us-east-1/wcpipe/athena-results/"


@pytest.fixture
def athena(ctx: Context) -> Any:
    athena_ops.install()
    return ctx.client("athena")


def _config(athena: Any) -> dict[str, Any]:
    return dict(athena.get_work_group(WorkGroup="wcpipe-fifa")["WorkGroup"]["Configuration"])


def test_ensure_twice_then_destroy_twice(ctx: Context, athena: Any) -> None:
    group = Workgroup(ctx)
    assert group.ensure() == "created"
    config = _config(athena)
    assert config["ResultConfiguration"]["OutputLocation"] == RESULTS
    assert config["EnforceWorkGroupConfiguration"] is True
    arn = "arn:aws:athena:us-east-1:123456789012:workgroup/wcpipe-fifa"
    tags = athena.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == ctx.tags
    assert ctx.output("athena.workgroup", "result_location") == RESULTS

    sent = Requests.on(athena)
    assert group.ensure() == "unchanged"
    assert sent.mutating == []

    assert group.destroy() == "deleted"
    assert group.destroy() == "absent"
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.get_work_group(WorkGroup="wcpipe-fifa")


def test_a_changed_result_location_and_a_lost_tag_are_put_back(ctx: Context, athena: Any) -> None:
    group = Workgroup(ctx)
    group.ensure()
    athena.update_work_group(
        WorkGroup="wcpipe-fifa",
        ConfigurationUpdates={
            "ResultConfigurationUpdates": {"OutputLocation": "s3://elsewhere/"},
            "EnforceWorkGroupConfiguration": False,
        },
    )
    arn = "arn:aws:athena:us-east-1:123456789012:workgroup/wcpipe-fifa"
    athena.untag_resource(ResourceARN=arn, TagKeys=["project"])
    athena.tag_resource(ResourceARN=arn, Tags=[{"Key": "cost-centre", "Value": "42"}])
    observed = group.describe()
    assert observed is not None
    assert names(group.differences(observed)) == ["result location", "enforced", "tags"]
    assert group.ensure() == "updated"
    assert group.ensure() == "unchanged"
    config = _config(athena)
    assert config["ResultConfiguration"]["OutputLocation"] == RESULTS
    assert config["EnforceWorkGroupConfiguration"] is True
    tags = {t["Key"]: t["Value"] for t in athena.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {**ctx.tags, "cost-centre": "42"}  # theirs stays


def test_a_workgroup_of_the_same_name_not_ours_is_left_alone(ctx: Context, athena: Any) -> None:
    athena.create_work_group(
        Name="wcpipe-fifa", Configuration={}, Tags=[{"Key": "team", "Value": "other"}]
    )
    group = Workgroup(ctx)
    with pytest.raises(NotOwnedError):
        group.ensure()
    assert group.destroy() == "kept"
    assert athena.get_work_group(WorkGroup="wcpipe-fifa")["WorkGroup"]["Name"] == "wcpipe-fifa"


def test_a_create_that_loses_the_race_to_another_run_of_ours_is_an_outcome(
    ctx: Context, athena: Any
) -> None:
    """Two `up`s at once: the second CreateWorkGroup is refused (InvalidRequestException, as a
    name taken is); the workgroup it finds is ours, so the create is done, not failed."""
    wg = Workgroup(ctx)
    assert wg.ensure() == "created"
    assert wg.create() is None  # the other run's create, after ours
    athena.untag_resource(ResourceARN=wg._arn, TagKeys=list(ctx.tags))
    with pytest.raises(athena.exceptions.InvalidRequestException):
        wg.create()  # someone else's: the refusal stands
