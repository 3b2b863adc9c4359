"""What the sandbox puts in a request's context (sandbox/arns.py) is what AWS's Service
Authorization Reference lists for the action: parliament ships that table (its
iam_definition), so a condition key the sandbox offers where AWS does not fails here."""

from __future__ import annotations

from parliament import iam_definition

from wcpipe.sandbox.arns import VPCE_SERVICE_NAME


def _ec2_actions_on_vpc_endpoints_taking(key: str) -> set[str]:
    [ec2] = [s for s in iam_definition if s["prefix"] == "ec2"]
    return {
        p["privilege"]
        for p in ec2["privileges"]
        for r in p["resource_types"]
        if r["resource_type"].rstrip("*") == "vpc-endpoint" and key in r["condition_keys"]
    }


def test_vpce_service_name_only_where_aws_lists_it() -> None:
    listed = _ec2_actions_on_vpc_endpoints_taking("ec2:VpceServiceName")
    assert VPCE_SERVICE_NAME.issubset(listed)
    # The actions wcpipe sends on an endpoint that AWS does not scope by service name.
    assert {"ModifyVpcEndpoint", "CreateTags", "DeleteTags"}.isdisjoint(listed)
