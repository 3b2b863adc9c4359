"""What exists of a pipeline, counted through each service's own listing, against what it declares.

What a pipeline declares is the product's catalog (`wcpipe.provision.resources.catalog`), never a
list kept here: one of each resource's `kind` per resource, plus the parts of a resource that
its service lists on its own (`PARTS`: the security group's ingress rule, the rule's target).
Each catalog resource is found by its `name` through its service's listing (`COUNTS`, by the
resource's `key`; the pipeline's own VPC for network resources), or is named in `UNLISTED`
with the reason; a resource the catalog gains that is in neither fails the census, so nothing
goes uncounted. The catalog tables that crawls write are counted too ("catalog table"): at
most one per Glue database.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from support.harness import Pipeline

CATALOG_TABLE = "catalog table"


@dataclass(frozen=True)
class Listing:
    """One service's listing of one kind of thing; as a count, how many it lists by a name."""

    service: str
    read: Callable[[Any], list[dict[str, Any]]]
    name: Callable[[dict[str, Any]], Any]

    def __call__(self, ls: Listings, name: str) -> int:
        return ls.names(self).count(name)


BUCKETS = Listing("s3", lambda c: c.list_buckets()["Buckets"], itemgetter("Name"))
ROLES = Listing("iam", lambda c: c.list_roles()["Roles"], itemgetter("RoleName"))
SECRETS = Listing("secretsmanager", lambda c: c.list_secrets()["SecretList"], itemgetter("Name"))
SUBNET_GROUPS = Listing(
    "redshift",
    lambda c: c.describe_cluster_subnet_groups()["ClusterSubnetGroups"],
    itemgetter("ClusterSubnetGroupName"),
)
CLUSTERS = Listing(
    "redshift", lambda c: c.describe_clusters()["Clusters"], itemgetter("ClusterIdentifier")
)
NAMESPACES = Listing(
    "redshift-serverless",
    lambda c: c.list_namespaces()["namespaces"],
    itemgetter("namespaceName"),
)
SERVERLESS_WORKGROUPS = Listing(
    "redshift-serverless",
    lambda c: c.list_workgroups()["workgroups"],
    itemgetter("workgroupName"),
)
CLASSIFIERS = Listing(
    "glue",
    lambda c: c.get_classifiers()["Classifiers"],
    lambda c: c.get("CsvClassifier", {}).get("Name"),
)
DATABASES = Listing("glue", lambda c: c.get_databases()["DatabaseList"], itemgetter("Name"))
CONNECTIONS = Listing("glue", lambda c: c.get_connections()["ConnectionList"], itemgetter("Name"))
CRAWLERS = Listing("glue", lambda c: c.get_crawlers()["Crawlers"], itemgetter("Name"))
JOBS = Listing("glue", lambda c: c.get_jobs()["Jobs"], itemgetter("Name"))
FUNCTIONS = Listing("lambda", lambda c: c.list_functions()["Functions"], itemgetter("FunctionName"))
ATHENA_WORKGROUPS = Listing(
    "athena", lambda c: c.list_work_groups()["WorkGroups"], itemgetter("Name")
)
TOPICS = Listing(
    "sns", lambda c: c.list_topics()["Topics"], lambda t: t["TopicArn"].rsplit(":", 1)[-1]
)
ALARMS = Listing(
    "cloudwatch", lambda c: c.describe_alarms()["MetricAlarms"], itemgetter("AlarmName")
)


class Listings:
    """What the services list, each listing read at most once per census."""

    def __init__(self, pl: Pipeline) -> None:
        self.sb, self.vpc_id, self.function = pl.sandbox, pl.vpc_id, pl.names().function
        self._names = pl.names()
        self._read: dict[Listing, list[Any]] = {}

    def names(self, listing: Listing) -> list[Any]:
        if listing not in self._read:
            found = listing.read(self.sb.client(listing.service))
            self._read[listing] = [listing.name(item) for item in found]
        return self._read[listing]

    def security_groups(self, name: str) -> list[str]:
        """The ids of the groups called `name` in the pipeline's VPC."""
        found = self.sb.client("ec2").describe_security_groups(Filters=self._in_vpc)
        return [g["GroupId"] for g in found["SecurityGroups"] if g["GroupName"] == name]

    def ingress_rules(self, group_name: str) -> int:
        ec2, rules = self.sb.client("ec2"), 0
        for group_id in self.security_groups(group_name):
            found = ec2.describe_security_group_rules(
                Filters=[{"Name": "group-id", "Values": [group_id]}]
            )["SecurityGroupRules"]
            rules += sum(not r.get("IsEgress") for r in found)
        return rules

    def gateway_endpoints(self, service_name: str) -> int:
        """The live endpoints to `service_name` in the pipeline's VPC."""
        found = self.sb.client("ec2").describe_vpc_endpoints(Filters=self._in_vpc)["VpcEndpoints"]
        return sum(
            e["ServiceName"] == service_name and e["State"].lower() not in ("deleted", "deleting")
            for e in found
        )

    def tables(self, database: str) -> int:
        if database not in self.names(DATABASES):
            return 0
        return len(self.sb.client("glue").get_tables(DatabaseName=database)["TableList"])

    def invoke_statements(self, sid: str) -> int:
        """The function's resource-policy statements with this Sid; for the crawler rule's
        (`lambda.permission`) also every statement of no wcpipe Sid (a leftover)."""
        lam = self.sb.client("lambda")
        if self.function not in self.names(FUNCTIONS):
            return 0
        n = self._names
        ours = {n.permission_sid, n.arrival_permission_sid, n.job_succeeded_permission_sid}
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            policy = json.loads(lam.get_policy(FunctionName=self.function)["Policy"])
            sids = [st.get("Sid") for st in policy.get("Statement", [])]
            others = sum(s not in ours for s in sids) if sid == self._names.permission_sid else 0
            return sids.count(sid) + others
        return 0

    def eventbridge_notifications(self, _name: str) -> int:
        """1 if the pipeline's bucket sends its events to EventBridge."""
        s3, bucket = self.sb.client("s3"), self._names.bucket
        if bucket not in self.names(BUCKETS):
            return 0
        found = s3.get_bucket_notification_configuration(Bucket=bucket)
        return int("EventBridgeConfiguration" in found)

    def log_groups(self, name: str) -> int:
        found = self.sb.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return [g["logGroupName"] for g in found].count(name)

    def rules(self, name: str) -> int:
        found = self.sb.client("events").list_rules(NamePrefix=name)["Rules"]
        return [r["Name"] for r in found].count(name)

    def targets(self, rule: str) -> int:
        if not self.rules(rule):
            return 0
        return len(self.sb.client("events").list_targets_by_rule(Rule=rule)["Targets"])

    def email_subscriptions(self, name: str) -> int:
        """The email subscriptions of the topic `name` names ("<topic> (email)")."""
        topic = name.removesuffix(" (email)")
        if topic not in self.names(TOPICS):
            return 0
        arn = f"arn:aws:sns:{self.sb.region}:{self.sb.account_id}:{topic}"
        found = self.sb.client("sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        return sum(s["Protocol"] == "email" for s in found)

    @property
    def _in_vpc(self) -> list[dict[str, Any]]:
        return [{"Name": "vpc-id", "Values": [self.vpc_id]}]


Count = Callable[[Listings, str], int]
"""How many exist of the resource with this name."""

COUNTS: dict[str, Count] = {
    "s3.bucket": BUCKETS,
    "iam.glue-role": ROLES,
    "iam.lambda-role": ROLES,
    "iam.redshift-role": ROLES,
    "secretsmanager.admin-secret": SECRETS,
    "ec2.security-group": lambda ls, name: len(ls.security_groups(name)),
    "ec2.s3-endpoint": Listings.gateway_endpoints,
    "ec2.secrets-endpoint": Listings.gateway_endpoints,
    "redshift.subnet-group": SUBNET_GROUPS,
    "redshift.cluster": CLUSTERS,
    "redshift-serverless.namespace": NAMESPACES,
    "redshift-serverless.workgroup": SERVERLESS_WORKGROUPS,
    "glue.classifier": CLASSIFIERS,
    "glue.s3-database": DATABASES,
    "glue.redshift-database": DATABASES,
    "glue.connection": CONNECTIONS,
    "glue.s3-crawler": CRAWLERS,
    "glue.redshift-crawler": CRAWLERS,
    "glue.job": JOBS,
    "lambda.function": FUNCTIONS,
    "lambda.permission": Listings.invoke_statements,
    "logs.lambda-log-group": Listings.log_groups,
    "events.rule": Listings.rules,
    "athena.workgroup": ATHENA_WORKGROUPS,
    "sns.topic": TOPICS,
    "sns.email-subscriptions": Listings.email_subscriptions,
    "events.job-failed-rule": Listings.rules,
    "events.crawl-failed-rule": Listings.rules,
    "cloudwatch.lambda-errors-alarm": ALARMS,
    "cloudwatch.rejected-values-alarm": ALARMS,
    "cloudwatch.no-load-alarm": ALARMS,
    # trigger on-arrival
    "s3.event-notifications": Listings.eventbridge_notifications,
    "lambda.arrival-permission": Listings.invoke_statements,
    "events.arrival-rule": Listings.rules,
    "lambda.job-succeeded-permission": Listings.invoke_statements,
    "events.job-succeeded-rule": Listings.rules,
}
PARTS: dict[str, dict[str, Count]] = {
    "ec2.security-group": {"security group ingress rule": Listings.ingress_rules},
    "events.rule": {"EventBridge target": Listings.targets},
    "events.job-failed-rule": {"EventBridge target": Listings.targets},
    "events.crawl-failed-rule": {"EventBridge target": Listings.targets},
    "events.arrival-rule": {"EventBridge target": Listings.targets},
    "events.job-succeeded-rule": {"EventBridge target": Listings.targets},
}
UNLISTED = {
    "s3.artifacts": "objects in the pipeline's bucket: they go with it",
    "s3.data": "objects in the pipeline's bucket: they go with it",
    "redshift-data.table": "a table in the warehouse database, which no AWS listing shows",
}


@dataclass(frozen=True)
class Census:
    found: dict[str, int]
    """How many exist, by kind (and part), by the services' own listings."""
    declared: dict[str, int]
    """How many the catalog declares, by kind (and part)."""

    def duplicates(self) -> dict[str, int]:
        """What exists more often than declared (catalog tables: more than one per database)."""
        out = {k: v for k, v in self.found.items() if v > self.declared.get(k, v)}
        if self.found[CATALOG_TABLE] > self.declared["Glue database"]:
            out[CATALOG_TABLE] = self.found[CATALOG_TABLE]
        return out

    def converged(self) -> dict[str, tuple[int, int]]:
        """Where what exists differs from what is declared: {kind: (found, declared)}."""
        return {k: (self.found[k], v) for k, v in self.declared.items() if self.found[k] != v}

    def leftovers(self) -> dict[str, int]:
        """Whatever exists at all."""
        return {k: v for k, v in self.found.items() if v}


def census(pl: Pipeline) -> Census:
    """Count what exists of `pl`'s catalog (see the module docstring)."""
    from wcpipe.core.aws import Aws
    from wcpipe.provision.resources import catalog
    from wcpipe.provision.resources.base import Context

    # The names come from the spec (no request): the catalog is only read, never run.
    aws = Aws(region=pl.sandbox.region, endpoint_url=pl.sandbox.endpoint)
    resources = catalog(Context(spec=pl.spec(), aws=aws, _names=pl.names()))
    uncounted = [r.key for r in resources if r.key not in COUNTS and r.key not in UNLISTED]
    assert not uncounted, f"the census cannot count {uncounted}: add them to COUNTS or UNLISTED"
    listings = Listings(pl)
    found: Counter[str] = Counter()
    declared: Counter[str] = Counter()
    for r in resources:
        if r.key in UNLISTED:
            continue
        for kind, count in {r.kind: COUNTS[r.key], **PARTS.get(r.key, {})}.items():
            found[kind] += count(listings, r.name)
            declared[kind] += 1
    found[CATALOG_TABLE] = sum(
        listings.tables(r.name) for r in resources if r.kind == "Glue database"
    )
    return Census(dict(found), dict(declared))
