"""The operator's least-privilege IAM policy: what a person needs to run `up`, `run`, `verify`,
`status`, `logs` and `down` for one spec, scoped to that pipeline's names and ARNs.

Contract: pure data, as `resources/iam_policies.py` (no AWS call). `operator_statements(names,
partition, declared, vpc_id)` lists the statements, `declared` being what the resource catalog
says this spec declares (`Declared.of(spec)`: `resources.classes` alone decides which resources a
spec has; the policy follows it); `operator_documents(...)` packs them into
policy documents of at most `MANAGED_POLICY_MAX_CHARS` characters each (as IAM counts them:
whitespace excluded), in order, so each one is ready for `aws iam create-policy
--policy-document file://...`.

Every action below is one a wcpipe command sends (the sandbox's operator mode proves each is
needed: tests/e2e/test_operator_policy.py), or one AWS checks besides the call itself:
- iam:PassRole, for the call that hands a role to a service (CreateJob, CreateCrawler,
  CreateFunction, CreateCluster, CreateNamespace and their updates), scoped to our roles and,
  with `iam:PassedToService`, to the service each is for (IAM User Guide, "Grant a user
  permissions to pass a role to an AWS service").
- the service's tagging action, for a create call that carries tags (tag-on-create: IAM's
  CreateRole needs iam:TagRole, S3's CreateBucket with Tags s3:TagResource, Secrets Manager's
  CreateSecret secretsmanager:TagResource, EC2's TagSpecifications ec2:CreateTags with the
  `ec2:CreateAction` condition; each service's "Tagging on creation" / API reference page).
Actions whose Service Authorization Reference entry has no resource type accept only
Resource "*" ("Actions, resources, and condition keys for AWS services": "If there is no value
for this column, you must specify all resources ("*")"): the EC2 Describe* calls, Glue's
classifier and crawler-metrics calls, CloudWatch's GetMetricStatistics, and the Data API's
statement reads (scoped by AWS to the statements the caller made). They read and change nothing
but our own statements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from wcpipe.provision.resources.ec2_endpoint import ROUTE_TAG, USES_TAG
from wcpipe.provision.resources.iam_policies import VERSION, _allow, _Arns
from wcpipe.spec.names import GLUE_CRAWLER_LOG_GROUP, GLUE_JOB_LOG_GROUPS, OWNER_TAG, Names

# IAM User Guide, "IAM and AWS STS quotas": managed policy size, 6,144 characters; "IAM does
# not count white space when calculating the size of a policy against this limit".
MANAGED_POLICY_MAX_CHARS = 6144

Warehouse = Literal["provisioned", "serverless"]

if TYPE_CHECKING:
    from wcpipe.spec.model import Spec


@dataclass(frozen=True)
class Declared:
    """What a spec declares that the operator's policy depends on, as the resource catalog
    decides it (`of`): the warehouse type's resources, the alert resources, on-arrival's."""

    warehouse: Warehouse = "provisioned"
    alerts: bool = False
    arrival: bool = False

    @classmethod
    def of(cls, spec: Spec) -> Declared:
        from wcpipe.provision.resources import classes, events, redshift_serverless, sns

        kinds = {kind for kind, declared in classes(spec) if declared}
        return cls(
            warehouse="serverless" if redshift_serverless.Namespace in kinds else "provisioned",
            alerts=sns.Topic in kinds,
            arrival=events.ArrivalRule in kinds,
        )


def _acts(prefix: str, actions: str) -> list[str]:
    """`prefix:Action` for each of the space-separated `actions`."""
    return [f"{prefix}:{a}" for a in actions.split()]


_ROLE_ACTIONS = [
    f"iam:{a}"
    for a in "CreateRole DeleteRole DeleteRolePolicy DetachRolePolicy GetRole GetRolePolicy "
    "ListAttachedRolePolicies ListRolePolicies PutRolePolicy TagRole UpdateAssumeRolePolicy "
    "UpdateRole".split()
]
_BUCKET_ACTIONS = [
    f"s3:{a}"
    for a in "CreateBucket DeleteBucket GetBucketLocation GetBucketOwnershipControls "
    "GetBucketPolicy GetBucketPublicAccessBlock GetBucketTagging GetEncryptionConfiguration "
    "GetLifecycleConfiguration ListBucket ListBucketVersions PutBucketOwnershipControls "
    "PutBucketPolicy PutBucketPublicAccessBlock PutBucketTagging PutEncryptionConfiguration "
    "PutLifecycleConfiguration TagResource".split()
]
_OBJECT_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:PutObject"]


def _glue(names: Names, a: _Arns) -> list[dict[str, Any]]:
    dbs = (names.s3_database, names.redshift_database)
    catalog = a.of("glue", "catalog")
    return [
        _allow(
            "GlueCatalog",
            # GetPartitions: Athena reads the table's partitions as the caller (Athena User
            # Guide, "Fine-grained access to databases and tables in the Glue Data Catalog").
            _acts(
                "glue",
                "CreateDatabase DeleteDatabase GetDatabase GetPartitions GetTable UpdateDatabase",
            ),
            [
                catalog,
                *(a.of("glue", f"database/{db}") for db in dbs),
                *(a.of("glue", f"table/{db}/*") for db in dbs),
                # DeleteDatabase acts on the database's functions too (none are made).
                *(a.of("glue", f"userDefinedFunction/{db}/*") for db in dbs),
            ],
        ),
        _allow(
            "GlueConnection",
            [f"glue:{x}Connection" for x in ("Create", "Delete", "Get", "Update")],
            [catalog, a.of("glue", f"connection/{names.connection}")],
        ),
        _allow(
            "GlueCrawlers",
            [f"glue:{x}Crawler" for x in ("Delete", "Get", "Start", "Stop", "Update")],
            [a.of("glue", f"crawler/{c}") for c in (names.s3_crawler, names.redshift_crawler)],
        ),
        _allow(
            "GlueJob",
            _acts("glue", "CreateJob DeleteJob GetJob GetJobRun GetJobRuns UpdateJob"),
            a.of("glue", f"job/{names.job}"),
        ),
        _allow(
            "GlueTags",
            ["glue:GetTags", "glue:TagResource"],
            [
                *(a.of("glue", f"database/{db}") for db in dbs),
                a.of("glue", f"connection/{names.connection}"),
                *(a.of("glue", f"crawler/{c}") for c in (names.s3_crawler, names.redshift_crawler)),
                a.of("glue", f"job/{names.job}"),
            ],
        ),
        # Classifiers have no ARN, and CreateCrawler and GetCrawlerMetrics no resource type
        # (Service Authorization Reference, AWS Glue): "*" is the only form. A crawler created
        # so still runs only as a role this policy may pass (PassGlueRole).
        _allow(
            "GlueUnscoped",
            [f"glue:{x}Classifier" for x in ("Create", "Delete", "Get", "Update")]
            + ["glue:CreateCrawler", "glue:GetCrawlerMetrics"],
            "*",
        ),
    ]


def _pass_role(sid: str, role_arn: str, services: list[str]) -> dict[str, Any]:
    passed = services if len(services) > 1 else services[0]
    return _allow(
        sid,
        ["iam:PassRole"],
        role_arn,
        Condition={"StringEquals": {"iam:PassedToService": passed}},
    )


def _iam(names: Names, a: _Arns, warehouse: Warehouse) -> list[dict[str, Any]]:
    role = names.role_arn
    redshift_services = ["redshift.amazonaws.com"]
    if warehouse == "serverless":
        redshift_services.append("redshift-serverless.amazonaws.com")
    roles = (names.glue_role, names.lambda_role, names.redshift_role)
    return [
        _allow("Roles", _ROLE_ACTIONS, [role(r, a.p) for r in roles]),
        _pass_role("PassGlueRole", role(names.glue_role, a.p), ["glue.amazonaws.com"]),
        _pass_role("PassLambdaRole", role(names.lambda_role, a.p), ["lambda.amazonaws.com"]),
        _pass_role("PassRedshiftRole", role(names.redshift_role, a.p), redshift_services),
    ]


def _s3_lambda_events_logs(names: Names, a: _Arns) -> list[dict[str, Any]]:
    function = a.of("lambda", f"function:{names.function}")
    groups = [names.function_log_group, *GLUE_JOB_LOG_GROUPS, GLUE_CRAWLER_LOG_GROUP]
    return [
        _allow("Bucket", _BUCKET_ACTIONS, a.bucket),
        _allow("Objects", _OBJECT_ACTIONS, a.objects("*")),
        _allow(
            "Function",
            _acts(
                "lambda",
                "AddPermission CreateFunction DeleteFunction GetFunction "
                "GetFunctionConfiguration GetPolicy ListTags RemovePermission TagResource "
                "UpdateFunctionCode UpdateFunctionConfiguration",
            ),
            function,
        ),
        _allow(
            "Rule",
            _acts(
                "events",
                "DeleteRule DescribeRule ListTagsForResource ListTargetsByRule PutRule "
                "PutTargets RemoveTargets TagResource",
            ),
            a.of("events", f"rule/{names.rule}"),
        ),
        _allow(
            "FunctionLogGroup",
            _acts(
                "logs",
                "CreateLogGroup DeleteLogGroup ListTagsForResource PutRetentionPolicy TagResource",
            ),
            [a.of("logs", f"log-group:{names.function_log_group}")],
        ),
        # DescribeLogGroups has no resource type (Service Authorization Reference, Amazon
        # CloudWatch Logs): it lists names and settings, no log lines.
        _allow("DescribeLogGroups", ["logs:DescribeLogGroups"], "*"),
        _allow(
            "ReadLogs",
            ["logs:FilterLogEvents"],
            [a.of("logs", f"log-group:{g}:*") for g in groups]
            + [a.of("logs", f"log-group:{g}") for g in groups],
        ),
    ]


def _secret_athena_metrics(names: Names, a: _Arns) -> list[dict[str, Any]]:
    return [
        _allow(
            "AdminSecret",
            _acts(
                "secretsmanager",
                "CreateSecret DeleteSecret DescribeSecret GetSecretValue PutSecretValue "
                "RestoreSecret TagResource UpdateSecret",
            ),
            # Secrets Manager appends six random characters to a secret's ARN.
            a.of("secretsmanager", f"secret:{names.secret}-??????"),
        ),
        _allow(
            "AthenaWorkgroup",
            _acts(
                "athena",
                "CreateWorkGroup DeleteWorkGroup GetWorkGroup ListTagsForResource TagResource "
                "UpdateWorkGroup "
                # verify's source side: one query in the workgroup (Athena runs it with the
                # caller's permissions on the catalog table and the S3 objects, which the Glue
                # catalog and Objects statements grant).
                "GetQueryExecution GetQueryResults StartQueryExecution StopQueryExecution",
            ),
            a.of("athena", f"workgroup/{names.athena_workgroup}"),
        ),
        # No resource type (Service Authorization Reference, Amazon CloudWatch).
        _allow("JobMetrics", ["cloudwatch:GetMetricStatistics"], "*"),
    ]


def _redshift(names: Names, a: _Arns, warehouse: Warehouse) -> list[dict[str, Any]]:
    # The Data API's statement reads have no resource type; AWS lets a caller read only the
    # statements it ran ("Authorizing access to the Amazon Redshift Data API").
    statements = _allow(
        "DataApiStatements",
        ["redshift-data:DescribeStatement", "redshift-data:GetStatementResult"],
        "*",
    )
    run = ["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"]
    if warehouse == "serverless":
        # A namespace's and a workgroup's ARNs end in an id AWS picks at creation: the
        # resource is the type's wildcard, narrowed by the ownership tag where AWS has it.
        namespace, workgroup = (
            a.of("redshift-serverless", f"{t}/*") for t in ("namespace", "workgroup")
        )
        return [
            _allow(
                "Serverless",
                _acts(
                    "redshift-serverless",
                    "CreateNamespace CreateWorkgroup DeleteNamespace DeleteWorkgroup "
                    "GetNamespace GetWorkgroup ListTagsForResource TagResource "
                    "UpdateNamespace UpdateWorkgroup",
                ),
                [namespace, workgroup],
            ),
            _allow("DataApi", run, workgroup),
            statements,
        ]
    cluster = a.of("redshift", f"cluster:{names.cluster}")
    subnet_group = a.of("redshift", f"subnetgroup:{names.cluster_subnet_group}")
    return [
        _allow(
            "Cluster",
            _acts(
                "redshift",
                "CreateCluster CreateTags DeleteCluster ModifyCluster ModifyClusterIamRoles "
                "ResumeCluster",
            ),
            cluster,
        ),
        _allow(
            "ClusterSubnetGroup",
            _acts(
                "redshift",
                "CreateClusterSubnetGroup CreateTags DeleteClusterSubnetGroup "
                "ModifyClusterSubnetGroup",
            ),
            subnet_group,
        ),
        # No resource type for these two reads (Service Authorization Reference, Amazon
        # Redshift).
        _allow(
            "DescribeRedshift",
            ["redshift:DescribeClusterSubnetGroups", "redshift:DescribeClusters"],
            "*",
        ),
        _allow("DataApi", run, cluster),
        statements,
    ]


def _ec2(names: Names, a: _Arns, vpc_id: str | None) -> list[dict[str, Any]]:
    vpc = a.of("ec2", f"vpc/{vpc_id or '*'}")
    ours = {"StringEquals": {f"aws:ResourceTag/{OWNER_TAG}": names.pipeline}}
    group, endpoint = a.of("ec2", "security-group/*"), a.of("ec2", "vpc-endpoint/*")
    return [
        # EC2's Describe* actions support no resource-level permissions (Amazon EC2 API
        # Reference, "Granting required permissions for Amazon EC2 resources"; Service
        # Authorization Reference, Amazon EC2): "*" only.
        _allow(
            "DescribeNetwork",
            [
                f"ec2:Describe{x}"
                for x in "RouteTables SecurityGroups Subnets VpcEndpoints Vpcs".split()
            ],
            "*",
        ),
        # A create acts on the VPC (and the route tables a gateway endpoint is routed through)
        # as well as on the new resource, which must carry the ownership tag.
        _allow("CreateInVpc", ["ec2:CreateSecurityGroup", "ec2:CreateVpcEndpoint"], vpc),
        _allow(
            "RouteEndpoint",
            ["ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint"],
            a.of("ec2", "route-table/*"),
        ),
        # The Secrets Manager interface endpoint (resources/ec2_endpoint_secrets.py) acts on its
        # subnet and security group too (Service Authorization Reference, Amazon EC2:
        # CreateVpcEndpoint and ModifyVpcEndpoint take security-group and subnet); the VPC's DNS
        # attributes decide whether private DNS can answer.
        _allow(
            "InterfaceEndpoint",
            ["ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint"],
            [a.of("ec2", "subnet/*"), group],
        ),
        _allow("DescribeVpcAttribute", ["ec2:DescribeVpcAttribute"], vpc),
        _allow(
            "CreateOwned",
            ["ec2:CreateSecurityGroup", "ec2:CreateVpcEndpoint"],
            [group, endpoint],
            Condition={"StringEquals": {f"aws:RequestTag/{OWNER_TAG}": names.pipeline}},
        ),
        _allow(
            "TagOnCreate",
            ["ec2:CreateTags"],
            [group, endpoint],
            Condition={
                "StringEquals": {"ec2:CreateAction": ["CreateSecurityGroup", "CreateVpcEndpoint"]}
            },
        ),
        _allow(
            "ChangeOwned",
            _acts(
                "ec2",
                "AuthorizeSecurityGroupIngress CreateTags DeleteSecurityGroup "
                "DeleteVpcEndpoints ModifyVpcEndpoint RevokeSecurityGroupIngress",
            ),
            [group, endpoint],
            Condition=ours,
        ),
        *_shared_endpoints(names, endpoint),
    ]


def _shared_endpoints(names: Names, endpoint: str) -> list[dict[str, Any]]:
    """A VPC's S3 gateway endpoint and its private-DNS Secrets Manager interface endpoint are
    shared (resources/ec2_endpoint.py, ec2_endpoint_secrets.py): this pipeline joins one another
    pipeline (or someone outside wcpipe) made, records itself on it, routes its subnet's table
    through it or puts its security group on it, takes those and its record off when it goes,
    and, the last wcpipe user out, deletes one a wcpipe pipeline made. Such an endpoint is not
    tagged ours, so ChangeOwned does not cover it. What each statement may be scoped by is what
    the Service Authorization Reference (Amazon EC2) lists for the vpc-endpoint resource of that
    action: CreateTags/DeleteTags take the tags (aws:TagKeys: only this pipeline's record and
    the route marks, `ec2_endpoint.USES_TAG`/`ROUTE_TAG`); ModifyVpcEndpoint takes only resource
    tags and attributes, so it is allowed on an endpoint that carries this pipeline's record
    (`update` tags before it changes the endpoint, `delete` changes it before it untags; the
    route table or security group it adds or removes is InterfaceEndpoint's and RouteEndpoint's);
    DeleteVpcEndpoints takes `ec2:VpceServiceName` (S3's and Secrets Manager's) and the
    ownership tag (an endpoint a wcpipe pipeline made)."""
    record = f"{USES_TAG}{names.pipeline}"
    services = [f"com.amazonaws.{names.region}.{s}" for s in ("s3", "secretsmanager")]
    return [
        _allow(
            "RecordOnSharedEndpoint",
            ["ec2:CreateTags", "ec2:DeleteTags"],
            endpoint,
            Condition={
                "ForAllValues:StringLike": {"aws:TagKeys": [record, f"{ROUTE_TAG}rtb-*"]},
                # ForAllValues holds for a request without tag keys, and a DeleteTags without
                # Tags deletes every tag (IAM User Guide, "Multivalued context key examples";
                # Amazon EC2 API Reference, DeleteTags).
                "Null": {"aws:TagKeys": "false"},
            },
        ),
        _allow(
            "ChangeSharedEndpoint",
            ["ec2:ModifyVpcEndpoint"],
            endpoint,
            Condition={"Null": {f"aws:ResourceTag/{record}": "false"}},
        ),
        _allow(
            "LastOutOfSharedEndpoint",
            ["ec2:DeleteVpcEndpoints"],
            endpoint,
            Condition={
                "StringEquals": {"ec2:VpceServiceName": services},
                "Null": {f"aws:ResourceTag/{OWNER_TAG}": "false"},
            },
        ),
    ]


def _alerts(names: Names, a: _Arns) -> list[dict[str, Any]]:
    """With `alerts` in the spec: the topic and its subscriptions, the two alert rules, the
    three alarms (resources/sns.py, events_alerts.py, cloudwatch.py). A subscription's ARN is
    the topic's ARN and an id, so `<topic>:*` covers Unsubscribe of ours."""
    topic = a.of("sns", names.alerts_topic)
    rules = [a.of("events", f"rule/{r}") for r in (names.job_failed_rule, names.crawl_failed_rule)]
    return [
        _allow(
            "AlertTopic",
            _acts(
                "sns",
                "CreateTopic DeleteTopic GetTopicAttributes ListSubscriptionsByTopic "
                "ListTagsForResource SetTopicAttributes Subscribe TagResource Unsubscribe",
            ),
            [topic, f"{topic}:*"],
        ),
        _allow(
            "AlertRules",
            _acts(
                "events",
                "DeleteRule DescribeRule ListTagsForResource ListTargetsByRule PutRule "
                "PutTargets RemoveTargets TagResource",
            ),
            rules,
        ),
        _allow(
            "Alarms",
            _acts(
                "cloudwatch",
                "DeleteAlarms DescribeAlarms ListTagsForResource PutMetricAlarm TagResource",
            ),
            a.of("cloudwatch", f"alarm:{names.base}-*"),
        ),
    ]


def _arrival(names: Names, a: _Arns) -> list[dict[str, Any]]:
    """With `trigger: on-arrival`: the bucket's EventBridge setting (S3's notification
    configuration: s3:GetBucketNotification / s3:PutBucketNotification on the bucket, Service
    Authorization Reference, Amazon S3) and the two rules that start the pipeline (the Lambda's
    permissions for them are the Function statement's AddPermission/RemovePermission)."""
    rules = [a.of("events", f"rule/{r}") for r in (names.arrival_rule, names.job_succeeded_rule)]
    return [
        _allow("BucketEvents", ["s3:GetBucketNotification", "s3:PutBucketNotification"], a.bucket),
        _allow(
            "ArrivalRules",
            _acts(
                "events",
                "DeleteRule DescribeRule ListTagsForResource ListTargetsByRule PutRule "
                "PutTargets RemoveTargets TagResource",
            ),
            rules,
        ),
    ]


_REMOVAL_VERBS = ("Get", "Describe", "List", "Delete", "Remove", "Unsubscribe")
_REMOVING_PUTS = {"s3:PutBucketNotification"}
"""Removals AWS spells as a Put: the bucket's EventBridge setting is turned off by putting the
notification configuration without it (s3_objects.EventNotifications.delete)."""


def _removal_only(statements: list[dict[str, Any]], taken: set[str]) -> list[dict[str, Any]]:
    """What finds and removes resources the spec no longer declares (the other warehouse
    type's, the alert resources without `alerts`: `resources.undeclared`, which `plan`
    describes and `up`/`down` delete): each statement's reads and deletes only, under a Sid of
    its own; one whose Sid the policy already has (the Data API's statement reads) is left out."""
    out = []
    for st in statements:
        if st["Sid"] in taken:
            continue
        actions = [
            x
            for x in st["Action"]
            if x.split(":", 1)[1].startswith(_REMOVAL_VERBS) or x in _REMOVING_PUTS
        ]
        if actions:
            out.append({**st, "Sid": f"Undeclared{st['Sid']}", "Action": actions})
    return out


def operator_statements(
    names: Names, partition: str, declared: Declared, vpc_id: str | None = None
) -> list[dict[str, Any]]:
    """Every statement of the operator's policy, in a stable order (see the module docstring):
    those of what the spec declares, then the reads and deletes of what it does not declare but
    the pipeline may own from an earlier spec (`_removal_only`)."""
    a = _Arns(names, partition)
    warehouse, alerts, arrival = declared.warehouse, declared.alerts, declared.arrival
    statements = [
        *_iam(names, a, warehouse),
        *_s3_lambda_events_logs(names, a),
        *_glue(names, a),
        *_secret_athena_metrics(names, a),
        *_redshift(names, a, warehouse),
        *_ec2(names, a, vpc_id),
        *(_alerts(names, a) if alerts else []),
        *(_arrival(names, a) if arrival else []),
    ]
    other: Warehouse = "provisioned" if warehouse == "serverless" else "serverless"
    undeclared = _redshift(names, a, other) + ([] if alerts else _alerts(names, a))
    undeclared += [] if arrival else _arrival(names, a)
    return statements + _removal_only(undeclared, {st["Sid"] for st in statements})


def policy_chars(document: dict[str, Any]) -> int:
    """The size IAM counts: the JSON text without whitespace (none inside our strings)."""
    return len(json.dumps(document, separators=(",", ":")))


def operator_documents(
    names: Names, partition: str, declared: Declared, vpc_id: str | None = None
) -> list[dict[str, Any]]:
    """The statements packed, in order, into as few documents as fit the managed-policy size."""
    documents: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for statement in operator_statements(names, partition, declared, vpc_id):
        trial = {"Version": VERSION, "Statement": [*current, statement]}
        if current and policy_chars(trial) > MANAGED_POLICY_MAX_CHARS:
            documents.append({"Version": VERSION, "Statement": current})
            current = [statement]
        else:
            current.append(statement)
    documents.append({"Version": VERSION, "Statement": current})
    return documents
