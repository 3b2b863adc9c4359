"""What `create()` returns stands for a describe right after it (the engine does not describe
again), so it must be what a describe finds: checked on moto for every resource that builds it
from what it sent and what AWS answered (the classifier: moto cannot read one back)."""

from __future__ import annotations

import pytest
from support.plan import names

from wcpipe.provision.resources import (
    ec2,
    ec2_endpoint,
    events,
    glue,
    iam,
    logs,
    redshift,
    s3,
    secretsmanager,
)
from wcpipe.provision.resources.base import Context, Resource

CLASSES: list[type[Resource]] = [
    s3.Bucket,
    iam.GlueRole,
    iam.LambdaRole,
    secretsmanager.AdminSecret,
    ec2.SecurityGroup,
    ec2_endpoint.S3Endpoint,
    redshift.SubnetGroup,
    glue.S3Database,
    logs.LambdaLogGroup,
    events.Rule,
]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.key)
def test_create_returns_what_describe_finds(ctx: Context, cls: type[Resource]) -> None:
    resource = cls(ctx)
    assert resource.describe() is None
    created = resource.create()
    assert created is not None
    described = resource.describe()
    assert described is not None
    assert created.tags == {k: v for k, v in described.tags.items() if not k.startswith("aws:")}
    assert names(resource.differences(created)) == resource.differences(described) == []
    assert resource.outputs(created) == resource.outputs(described)
