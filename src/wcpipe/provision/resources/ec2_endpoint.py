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
  operator_policy's ChangeSharedEndpoint), then its record.
- Two `down`s at once: each removes its own record and then reads the endpoint again before it
  decides, so at least one of them sees no user left and deletes it; a delete that finds it gone
  is "absent", not a failure. Two downs at once of pipelines that share one route table each
  keep it for the other: the route stays until the next `up` of a remaining user, which removes
  a table wcpipe added that no user needs (`_extra_tables`), or the last one out deletes it.
- A last down and a first up at once (A the last user going, B joining the endpoint A is about
  to delete). EC2 has no conditional delete, so A cannot delete "only if nobody joined"; each
  side reads again after it acts instead:
  - B, after its CreateTags and ModifyVpcEndpoint, reads the endpoint by id; gone or going
    (deleting, deleted, or a change refused and then found gone), it creates one anew.
  - A reads by id again and deletes only if no other record is there (one is: A leaves as a
    shared user does), then reads the deleted endpoint once more: a record that went on
    before the delete gets the endpoint made again for that user (its route tables and
    record, the creator's tags, its own ownership tag).
  - Two creates at once (B's anew and A's for B) meet on B's route table: the second gets
    RouteAlreadyExists and joins the first (`create`), so one endpoint serves B.
  Guaranteed: B ends with one endpoint routed on its table and carrying its record when B's
  read after joining comes after A's delete (B sees it gone), and when it comes before, as
  long as EC2 still shows the deleted endpoint to A's read after the delete (the API's State
  has `Deleting` and `Deleted`, botocore's ec2 model, VpcEndpoint.State; how long a deleted
  one stays visible is not documented). Window left: B's read came before A's delete and AWS
  had stopped showing the deleted endpoint by A's next read. B is then without one: its
  `status` shows the endpoint missing and its next `up` makes it again. A's create for B
  carries A's ownership tag (A made this one), the create the operator's policy allows A
  (operator_policy: CreateOwned).

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


def user_tags(tags: dict[str, str]) -> int:
    """The tags EC2 counts against its limit (not `aws:` ones)."""
    return sum(not k.lower().startswith("aws:") for k in tags)


class SharedEndpoint(Resource):
    """What the VPC's shared endpoints have in common (the S3 gateway endpoint here, the
    Secrets Manager interface endpoint in `ec2_endpoint_secrets`): the records of who relies on
    one, reading it again by id, and `down`'s choice between taking this pipeline's share off
    (`_take_share_off`: its route table, or its security group) and, the last wcpipe user out,
    deleting one a wcpipe pipeline made (`_last_out`). Module docstring for the rules."""

    shared = True

    @property
    def _me(self) -> str:
        return self.ctx.spec.name

    def _observed(self, endpoint: dict[str, Any]) -> Observed:
        raise NotImplementedError

    def _share(self, observed: Observed, others: dict[str, str]) -> str:
        """What goes with this pipeline's record when it leaves (" and route table rtb-1")."""
        raise NotImplementedError

    def _take_share_off(self, eid: str, observed: Observed) -> None:
        raise NotImplementedError

    def _record_tags(self, observed: Observed) -> dict[str, str]:
        """The tags `update` puts on the endpoint (this pipeline's record among them)."""
        raise NotImplementedError

    def _others(self, observed: Observed) -> dict[str, str]:
        return {p: t for p, t in users(observed.tags).items() if p != self._me}

    def _record_difference(self, observed: Observed, needs: str) -> list[Difference]:
        """This pipeline's record, when it is missing or says other than `needs`."""
        before = users(observed.tags)
        if before.get(self._me) == needs:
            return []
        return [Difference(USERS, before, {**before, self._me: needs})]

    def _within_tag_limit(self, observed: Observed, out: list[Difference]) -> list[Difference]:
        """`out`, every difference blocked where the tags `update` puts would pass EC2's limit."""
        after = {**observed.tags, **self._record_tags(observed)}
        if user_tags(after) <= MAX_TAGS or not out:
            return out
        reason = (
            f"it would carry {user_tags(after)} tags and EC2 allows {MAX_TAGS} per resource: "
            "remove tags others added to it, or give this pipeline another VPC"
        )
        return [Difference(d.field, d.old, d.new, "blocked", reason) for d in out]

    def _read_id(self, endpoint_id: str) -> dict[str, Any] | None:
        """The endpoint by id in whatever state, deleted too; None once AWS no longer shows it."""
        client = self.ctx.client("ec2")
        found = ignoring(
            lambda: client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id]), *NOT_FOUND
        )
        return dict(found["VpcEndpoints"][0]) if found and found["VpcEndpoints"] else None

    def _describe_id(self, endpoint_id: str) -> Observed | None:
        """The endpoint read again by id (before `delete` decides, after `update` joined it),
        or None once it is gone or going."""
        found = self._read_id(endpoint_id)
        live = found is not None and found.get("State", "").lower() not in GONE_STATES
        return self._observed(found) if found is not None and live else None

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
        extra = self._share(observed, others)
        share = f"only {self._me}'s record{extra} {'go' if extra else 'goes'}"
        why = f"shared with {', '.join(others)}" if others else "not created by wcpipe"
        return "delete", f"{why}: {share}; the endpoint stays"

    def delete(self, observed: Observed) -> None:
        eid = observed.data["endpoint_id"]
        if not self._others(observed) and observed.tags.get(OWNER_TAG) is not None:
            # The last one out: read again first, someone may have joined since.
            current = self._describe_id(eid)
            if current is None:
                return
            if not self._others(current):
                self._last_out(eid)
                return
            observed = current
        self._leave(eid, observed)

    def _leave(self, eid: str, observed: Observed) -> None:
        """Take this pipeline's share off, then its record; read again, and delete it when
        nobody is left."""
        if self._me in users(observed.tags):
            # The share goes while this pipeline's record is still on the endpoint: the
            # operator's policy lets a pipeline change only an endpoint that carries its record
            # (operator_policy: ChangeSharedEndpoint).
            self._take_share_off(eid, observed)
            client, key = self.ctx.client("ec2"), f"{USES_TAG}{self._me}"
            # Gone already (another pipeline's `down` was the last out): nothing to take off.
            ignoring(lambda: client.delete_tags(Resources=[eid], Tags=[{"Key": key}]), *NOT_FOUND)
        # Read it again before deciding: another user may have left, or joined, meanwhile.
        current = self._describe_id(eid)
        if current is not None and not self._others(current) and current.tags.get(OWNER_TAG):
            self._last_out(eid)

    def _last_out(self, eid: str) -> None:
        self._delete_endpoint(eid)

    def _delete_endpoint(self, eid: str) -> None:
        response = self.ctx.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[eid])
        for item in response.get("Unsuccessful", []):
            code = item.get("Error", {}).get("Code")
            if code not in NOT_FOUND:
                raise WcpipeError(
                    f"deleting {self.kind} {eid} failed: {code}: "
                    f"{item.get('Error', {}).get('Message', '')}"
                )

    def owned(self, observed: Observed) -> bool:
        """Every pipeline may add and remove its own share of the endpoint (`update` and
        `delete` touch nothing else): which of that `down` does is `down_action`'s."""
        return True


class S3Endpoint(SharedEndpoint):
    key = "ec2.s3-endpoint"
    kind = "S3 gateway endpoint"

    @property
    def name(self) -> str:
        return f"com.amazonaws.{self.ctx.aws.region}.s3"

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

    def _observed(self, endpoint: dict[str, Any]) -> Observed:
        return _observed(endpoint)

    # What this pipeline needs, and what it may take off ----------------------------------------
    def _table(self) -> str:
        return network(self.ctx).subnet_route_table_id or ""

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
        out = self._record_difference(observed, self._table())
        missing, extra = self._missing_tables(observed), self._extra_tables(observed)
        if missing or extra:
            have = sorted(observed.data["route_table_ids"])
            wanted = sorted({*have, *missing} - set(extra))
            out.append(Difference("route_tables", have, wanted))
        if observed.tags.get(OWNER_TAG) == self._me:
            out += self.tag_differences(observed)
        return self._within_tag_limit(observed, out)

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
        try:
            if put:
                client.create_tags(Resources=[eid], Tags=tag_list(put))
            self._reroute(observed, missing, extra)
        except Exception as exc:
            # What AWS answers a change to an endpoint being deleted is not documented: the
            # read below decides. One still there refused it for another reason.
            if error_code(exc) is None or self._describe_id(eid) is not None:
                raise
        # Read it again: a last-out `down` that read it before the record went on deletes it
        # anyway (module docstring, "a last down and a first up at once"). Gone: make it anew
        # (`create` joins one that appeared meanwhile: its RouteAlreadyExists).
        if self._describe_id(eid) is None:
            self.create()

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

    def _share(self, observed: Observed, others: dict[str, str]) -> str:
        gone = self._removable(observed, set(others.values()))
        return f" and route table {', '.join(gone)}" if gone else ""

    def _take_share_off(self, eid: str, observed: Observed) -> None:
        """The route tables no other user needs."""
        others = self._others(observed)
        self._reroute(observed, [], self._removable(observed, set(others.values())))

    def _last_out(self, eid: str) -> None:
        self._delete_endpoint(eid)
        self._hand_over(eid)

    def _hand_over(self, eid: str) -> None:
        """After the last-out delete: a pipeline whose record went on between the read that
        decided it and the delete (a first `up` joining) gets the endpoint back as this `down`
        would have left it had it seen that record: their records and route tables, the
        creator's tags. One that made it anew itself already holds the route: RouteAlreadyExists
        means it is served."""
        gone = self._read_id(eid)
        if gone is None:
            return  # AWS no longer shows it: the window the module docstring names
        seen = _observed(gone)
        others = self._others(seen)
        if not others:
            return
        tables = sorted({t for t in others.values() if t})
        tags = {
            k: v
            for k, v in seen.tags.items()
            if not k.lower().startswith("aws:")
            and not (k.startswith(ROUTE_TAG) and k[len(ROUTE_TAG) :] not in tables)
            and k != f"{USES_TAG}{self._me}"
        }
        # This pipeline makes it, so it carries this pipeline's ownership tag: the tag's
        # meaning ("a wcpipe pipeline made it", so the last user out deletes it), and the only
        # create the operator's policy allows it (operator_policy: CreateOwned).
        tags[OWNER_TAG] = self._me
        client = self.ctx.client("ec2")
        ignoring(
            lambda: client.create_vpc_endpoint(
                VpcEndpointType="Gateway",
                VpcId=network(self.ctx).vpc_id,
                ServiceName=self.name,
                RouteTableIds=tables,
                TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": tag_list(tags)}],
            ),
            "RouteAlreadyExists",
        )

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
