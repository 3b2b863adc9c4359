"""EC2: the S3 gateway endpoint (`ec2.s3-endpoint`), in the VPC that `ec2.py` looks up.

Contract (see `resources/base.py`): `describe` makes only read calls; `differences` is pure; only
`create`/`update`/`delete` write. Glue in a VPC reaches S3 through a gateway endpoint, and a VPC
has one per route table at most, so the endpoint is shared: by several wcpipe pipelines in one
VPC, and perhaps by workloads that are not wcpipe's at all.

Who relies on it is recorded on the endpoint itself, one tag per pipeline:
- `wcpipe:uses:<pipeline>` = the route table that pipeline needs routed (its connection
  subnet's table: `network().subnet_route_table_id`; the route goes only there, since a route on
  every table of the VPC would change how every other workload reaches S3 and a bucket policy on
  their source IPs would stop matching);
- `wcpipe:route:<route table>` = the pipeline that added that table to the endpoint: a table
  without one was there before wcpipe and is never removed.

Ownership and users: the pipeline that creates the endpoint tags it with the ownership tag
(`OWNER_TAG`, meaning "a wcpipe pipeline created it") and records itself as its first user. That
tag stays when its creator goes: it never lets one pipeline's `down` break another.
- `up` of any pipeline adds its record, and its route table if missing, to whatever S3 gateway
  endpoint the VPC has (one another pipeline made, or one nobody in wcpipe made); only the
  creator puts back its other tags. A subnet that moved to another table is drift: the record
  follows it and the old table goes if no other user needs it.
- `down` removes its record and the route tables wcpipe added that no remaining user needs. The
  last wcpipe user out deletes an endpoint a wcpipe pipeline created, whoever created it; one
  without the ownership tag is never deleted. `plan`/`down` and `status` say "shared with B".
- `down` takes off the route tables no other user needs while its record is still on the
  endpoint (the operator's policy lets a pipeline change only an endpoint carrying its record:
  operator_policy's RouteS3Endpoint), then its record.
- Two `down`s at once: each removes its own record and then reads the endpoint again before it
  decides, so at least one of them sees no user left and deletes it; a delete that finds it gone
  is "absent", not a failure. Two downs at once of pipelines that share one route table each
  keep it for the other: the route stays until the next `up` of a remaining user, which removes
  a table wcpipe added that no user needs (`_extra_tables`), or the last one out deletes it.

Tag limits (Amazon EC2 User Guide, "Tag your Amazon EC2 resources", tag restrictions: at most 50
user tags per resource, keys up to 128 characters, values up to 256; `aws:` tags do not count):
a pipeline name is at most 24 characters (`spec.model.PIPELINE_NAME`), so a record's key is at
most 36; an endpoint whose tags would pass 50 is a blocked change, said before anything changes.
"""

from __future__ import annotations

from typing import Any

from wcpipe.core.errors import WcpipeError, error_code, ignoring
from wcpipe.provision.resources.base import (
    Difference,
    Differences,
    DownAction,
    Observed,
    Resource,
    tag_list,
    tags_from_list,
)
from wcpipe.provision.resources.ec2 import network
from wcpipe.spec.names import OWNER_TAG

GONE_STATES = {"deleting", "deleted", "failed", "rejected", "expired"}
NOT_FOUND = ("InvalidVpcEndpointId.NotFound", "InvalidVpcEndpoint.NotFound")

USES_TAG = "wcpipe:uses:"
"""+ a pipeline's name: the route table that pipeline needs the endpoint routed on."""
ROUTE_TAG = "wcpipe:route:"
"""+ a route table's id: the pipeline that added that table to the endpoint."""
MAX_TAGS = 50
"""User tags per EC2 resource (EC2 User Guide, "Tag your Amazon EC2 resources")."""
USERS = "users"
"""The field `differences` names when this pipeline's record is missing or out of date."""


def users(tags: dict[str, str]) -> dict[str, str]:
    """Each wcpipe pipeline recorded on the endpoint, with the route table it needs."""
    return {k[len(USES_TAG) :]: v for k, v in sorted(tags.items()) if k.startswith(USES_TAG)}


def _user_tags(tags: dict[str, str]) -> int:
    return sum(not k.lower().startswith("aws:") for k in tags)


class S3Endpoint(Resource):
    key = "ec2.s3-endpoint"
    kind = "S3 gateway endpoint"
    shared = True

    @property
    def name(self) -> str:
        return f"com.amazonaws.{self.ctx.aws.region}.s3"

    @property
    def _me(self) -> str:
        return self.ctx.spec.name

    def describe(self) -> Observed | None:
        endpoints = self.ctx.client("ec2").describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [network(self.ctx).vpc_id]},
                {"Name": "service-name", "Values": [self.name]},
                {"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
            ]
        )["VpcEndpoints"]
        live = [e for e in endpoints if e.get("State", "").lower() not in GONE_STATES]
        if not live:
            return None

        # Prefer one this pipeline relies on; otherwise whichever the VPC already has is joined.
        def ours(e: dict[str, Any]) -> bool:
            tags = tags_from_list(e.get("Tags"))
            return tags.get(OWNER_TAG) == self._me or f"{USES_TAG}{self._me}" in tags

        live.sort(key=lambda e: (not ours(e), e["VpcEndpointId"]))
        return _observed(live[0])

    def _describe_id(self, endpoint_id: str) -> Observed | None:
        """The endpoint read again by id (before `delete` decides), or None once it is gone."""
        client = self.ctx.client("ec2")
        found = ignoring(
            lambda: client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id]), *NOT_FOUND
        )
        if found is None:
            return None
        live = [e for e in found["VpcEndpoints"] if e.get("State", "").lower() not in GONE_STATES]
        return _observed(live[0]) if live else None

    # What this pipeline needs, and what it may take off ----------------------------------------
    def _table(self) -> str:
        return network(self.ctx).subnet_route_table_id or ""

    def _others(self, observed: Observed) -> dict[str, str]:
        return {p: t for p, t in users(observed.tags).items() if p != self._me}

    def _missing_tables(self, observed: Observed) -> list[str]:
        table = self._table()
        return [table] if table and table not in observed.data["route_table_ids"] else []

    def _removable(self, observed: Observed, needed: set[str]) -> list[str]:
        """Route tables on the endpoint no user in `needed` relies on that wcpipe added (or any,
        on an endpoint this pipeline created: the route goes on the subnet's table only)."""
        creator = observed.tags.get(OWNER_TAG) == self._me
        return [
            t
            for t in observed.data["route_table_ids"]
            if t not in needed and (creator or f"{ROUTE_TAG}{t}" in observed.tags)
        ]

    def _extra_tables(self, observed: Observed) -> list[str]:
        needed = {*self._others(observed).values(), self._table()}
        return self._removable(observed, needed)

    def _record_tags(self, observed: Observed) -> dict[str, str]:
        """The tags `update` puts: the record, the tables it adds, the creator's own tags."""
        put = {f"{USES_TAG}{self._me}": self._table()}
        put |= {f"{ROUTE_TAG}{t}": self._me for t in self._missing_tables(observed)}
        if observed.tags.get(OWNER_TAG) == self._me:
            put |= self.tag_changes(observed).put
        return {k: v for k, v in put.items() if observed.tags.get(k) != v}

    def differences(self, observed: Observed) -> list[Difference]:
        out = []
        mine = users(observed.tags).get(self._me)
        if mine != self._table():
            before = users(observed.tags)
            out.append(Difference(USERS, before, {**before, self._me: self._table()}))
        missing, extra = self._missing_tables(observed), self._extra_tables(observed)
        if missing or extra:
            have = sorted(observed.data["route_table_ids"])
            wanted = sorted({*have, *missing} - set(extra))
            out.append(Difference("route_tables", have, wanted))
        if observed.tags.get(OWNER_TAG) == self._me:
            out += self.tag_differences(observed)
        after = {**observed.tags, **self._record_tags(observed)}
        if _user_tags(after) > MAX_TAGS and out:
            reason = (
                f"it would carry {_user_tags(after)} tags and EC2 allows {MAX_TAGS} per resource: "
                "remove tags others added to it, or give this pipeline another VPC"
            )
            out = [Difference(d.field, d.old, d.new, "blocked", reason) for d in out]
        return out

    def create(self) -> Observed | None:
        net = network(self.ctx)
        table = self._table()
        tags = {**self.ctx.tags, f"{USES_TAG}{self._me}": table}
        if table:
            tags[f"{ROUTE_TAG}{table}"] = self._me
        try:
            endpoint = self.ctx.client("ec2").create_vpc_endpoint(
                VpcEndpointType="Gateway",
                VpcId=net.vpc_id,
                ServiceName=self.name,
                RouteTableIds=[table] if table else [],
                TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": tag_list(tags)}],
            )["VpcEndpoint"]
        except Exception as exc:
            if error_code(exc) != "RouteAlreadyExists":
                raise
            # A route table routes S3 through one gateway endpoint only: one appeared since the
            # describe (a concurrent run made it). It is the VPC's S3 endpoint now: join it.
            observed = self.describe()
            if observed is None:
                raise
            fields = Differences(self.differences(observed))
            if not fields:
                return observed
            self.update(observed, fields)
            return self.describe()
        return _observed({**endpoint, "Tags": endpoint.get("Tags") or tag_list(tags)})

    def update(self, observed: Observed, fields: Differences) -> None:
        client = self.ctx.client("ec2")
        eid = observed.data["endpoint_id"]
        missing, extra = self._missing_tables(observed), self._extra_tables(observed)
        # The record goes on first: a `down` of the last other user that reads the endpoint
        # after this sees it still has a user.
        put = self._record_tags(observed)
        if put:
            client.create_tags(Resources=[eid], Tags=tag_list(put))
        self._reroute(observed, missing, extra)

    def _reroute(self, observed: Observed, add: list[str], remove: list[str]) -> None:
        """Add and remove route tables; a removed table's `wcpipe:route:` tag goes with it."""
        if not add and not remove:
            return
        client = self.ctx.client("ec2")
        eid = observed.data["endpoint_id"]
        client.modify_vpc_endpoint(
            VpcEndpointId=eid, AddRouteTableIds=add, RemoveRouteTableIds=remove
        )
        marks = [{"Key": f"{ROUTE_TAG}{t}"} for t in remove if f"{ROUTE_TAG}{t}" in observed.tags]
        if marks:
            client.delete_tags(Resources=[eid], Tags=marks)

    def down_action(self, observed: Observed) -> tuple[DownAction, str | None]:
        """What `down` does: delete the endpoint (the last wcpipe user of one wcpipe made),
        take only this pipeline's share off it, or nothing (it has no record here)."""
        others, creator = self._others(observed), observed.tags.get(OWNER_TAG)
        recorded = self._me in users(observed.tags)
        if not recorded and not (creator == self._me and not users(observed.tags)):
            who = f"used by {', '.join(others)}" if others else f"created by {creator or 'others'}"
            return "keep", f"{who}; {self._me} has no record on it"
        if not others and creator is not None:
            return "delete", None
        share = f"only {self._me}'s record"
        gone = self._removable(observed, set(others.values()))
        if gone:
            share += f" and route table {', '.join(gone)}"
        why = f"shared with {', '.join(others)}" if others else "not created by wcpipe"
        return "delete", f"{why}: {share} go; the endpoint stays"

    def delete(self, observed: Observed) -> None:
        eid = observed.data["endpoint_id"]
        creator = observed.tags.get(OWNER_TAG)
        if not self._others(observed) and creator is not None:
            self._delete_endpoint(eid)
            return
        if self._me in users(observed.tags):
            # The route tables no other user needs go while this pipeline's record is still on
            # the endpoint: the operator's policy lets a pipeline change only an endpoint that
            # carries its record (operator_policy: RouteS3Endpoint).
            others = self._others(observed)
            self._reroute(observed, [], self._removable(observed, set(others.values())))
            client, key = self.ctx.client("ec2"), f"{USES_TAG}{self._me}"
            # Gone already (another pipeline's `down` was the last out): nothing to take off.
            ignoring(lambda: client.delete_tags(Resources=[eid], Tags=[{"Key": key}]), *NOT_FOUND)
        # Read it again before deciding: another user may have left meanwhile.
        current = self._describe_id(eid)
        if current is not None and not self._others(current) and current.tags.get(OWNER_TAG):
            self._delete_endpoint(eid)

    def _delete_endpoint(self, eid: str) -> None:
        response = self.ctx.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[eid])
        for item in response.get("Unsuccessful", []):
            code = item.get("Error", {}).get("Code")
            if code not in NOT_FOUND:
                raise WcpipeError(
                    f"deleting S3 gateway endpoint {eid} failed: {code}: "
                    f"{item.get('Error', {}).get('Message', '')}"
                )

    def owned(self, observed: Observed) -> bool:
        """Every pipeline may add and remove its own share of the endpoint (`update` and
        `delete` touch nothing else): which of that `down` does is `down_action`'s."""
        return True

    def outputs(self, observed: Observed) -> dict[str, Any]:
        reused = observed.tags.get(OWNER_TAG) != self._me
        return {"endpoint_id": observed.data["endpoint_id"], "reused": reused}

    def facts(self, observed: Observed) -> dict[str, str]:
        owner = "ours" if observed.tags.get(OWNER_TAG) == self._me else "reused"
        out = {"endpoint": observed.data["endpoint_id"], "owner": owner}
        others = self._others(observed)
        if others:
            out["shared_with"] = ", ".join(others)
        return out


def _observed(endpoint: dict[str, Any]) -> Observed:
    return Observed(
        {
            "endpoint_id": endpoint["VpcEndpointId"],
            "route_table_ids": sorted(endpoint.get("RouteTableIds", [])),
            "state": endpoint.get("State", ""),
        },
        tags_from_list(endpoint.get("Tags")),
    )
