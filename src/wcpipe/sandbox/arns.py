"""What one request asks IAM, as AWS asks it: the action on each resource the request acts on,
and the other actions AWS checks for the same call.

Contract: `checks(sandbox, service, operation, params)` returns the `Check`s (action, resource
ARN, request context) of one request to a JSON or query service, in the order AWS would refuse
them: the operation's own action on each resource first, then the dependent ones:
- iam:PassRole on each role the call hands a service, with `iam:PassedToService` (IAM User
  Guide, "Grant a user permissions to pass a role to an AWS service");
- the tagging action of a create call that carries tags, where the service documents it:
  iam:TagRole for CreateRole (IAM User Guide, "Permissions required to tag IAM entities"),
  secretsmanager:TagResource for CreateSecret (API reference, CreateSecret: "To add tags ... you
  must also have secretsmanager:TagResource"), lambda:TagResource for CreateFunction (Lambda
  Developer Guide, "Permissions required for working with tags": "anyone who needs to call
  TagResource or perform tagging on create"), ec2:CreateTags with `ec2:CreateAction` for a
  TagSpecification (Amazon EC2 User Guide, "Grant permission to tag resources during creation");
- lambda:ListTags for GetFunction of a tagged function (the same Lambda page: "For tagged
  functions, this permission is also necessary for GetFunction").
The resource of each operation is the Service Authorization Reference's resource type for its
action; an operation whose action has no resource type is judged on "*", as AWS does. An
operation missing from the table is judged on "*" too, so only an unscoped statement allows it
and a gap shows as a denial in a test, never as a silent allow.
EC2 requests carry `aws:RequestTag/<key>` and `aws:TagKeys` from their TagSpecifications and,
on an existing resource, `aws:ResourceTag/<key>` from moto's EC2 tags: the conditions the
operator's policy narrows EC2 with. S3 is authorised in `patches/actors.py`'s S3 hook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wcpipe.sandbox.context import SandboxView

Context = dict[str, str | list[str]]


@dataclass(frozen=True)
class Check:
    action: str
    resource: str
    context: Context = field(default_factory=dict)


@dataclass(frozen=True)
class _Request:
    sandbox: SandboxView
    service: str
    params: dict[str, Any]

    def arn(self, resource: str, service: str | None = None) -> str:
        sb, service = self.sandbox, service or self.service
        region = "" if service == "iam" else sb.region  # IAM's ARNs have no Region
        return f"arn:aws:{service}:{region}:{sb.account_id}:{resource}"

    def get(self, *path: str) -> str:
        value: Any = self.params
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return "" if value is None else str(value)

    def numbered(self, prefix: str) -> list[str]:
        """A query protocol list: prefix.1, prefix.2, ... (their values, in order)."""
        pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)$")
        found = sorted(
            (int(m.group(1)), v) for k, v in self.params.items() if (m := pattern.match(k))
        )
        return [str(v) for _, v in found]


Resolver = Callable[[_Request], list[str]]


def _glue(r: _Request) -> Callable[..., list[str]]:
    def of(*resources: str) -> list[str]:
        return [r.arn(x) for x in resources]

    return of


def _catalog(kind: str, *path: str) -> Resolver:
    def resolve(r: _Request) -> list[str]:
        name = r.get(*path)
        return _glue(r)("catalog", f"{kind}/{name}")

    return resolve


def _database_delete(r: _Request) -> list[str]:
    db = r.get("Name")
    return _glue(r)("catalog", f"database/{db}", f"table/{db}/*", f"userDefinedFunction/{db}/*")


def _table(r: _Request) -> list[str]:
    db = r.get("DatabaseName")
    return _glue(r)("catalog", f"database/{db}", f"table/{db}/{r.get('Name')}")


def _named(template: str, *path: str, service: str | None = None) -> Resolver:
    return lambda r: [r.arn(template.format(r.get(*path)), service)]


def _given_arn(*path: str) -> Resolver:
    return lambda r: [r.get(*path)]


def _secret(r: _Request) -> list[str]:
    name = r.get("SecretId") or r.get("Name")
    found = r.sandbox.backend("secretsmanager").secrets.get(name)
    # A secret not made yet: the ARN it will have (AWS appends six random characters).
    return [found.arn if found is not None else r.arn(f"secret:{name}-AbCdEf")]


def _serverless(kind: str, key: str) -> Resolver:
    def resolve(r: _Request) -> list[str]:
        name = r.get(key)
        items = getattr(r.sandbox.backend("redshift-serverless"), f"{kind}s")
        item = items.get(name)
        return [item.arn if item is not None else r.arn(f"{kind}/{name}")]

    return resolve


def _data_api(r: _Request) -> list[str]:
    if r.get("WorkgroupName"):
        return _serverless("workgroup", "WorkgroupName")(r)
    return [r.arn(f"cluster:{r.get('ClusterIdentifier')}", "redshift")]


_EC2_TYPES = {
    "sg-": "security-group",
    "subnet-": "subnet",
    "vpce-": "vpc-endpoint",
    "vpc-": "vpc",
    "rtb-": "route-table",
}


def _ec2_arn(r: _Request, resource_id: str) -> str:
    kind = next((t for p, t in _EC2_TYPES.items() if resource_id.startswith(p)), "resource")
    return r.arn(f"{kind}/{resource_id}")


def _ec2(*keys: str, new: str | None = None, tables: str | None = None) -> Resolver:
    def resolve(r: _Request) -> list[str]:
        ids = [r.get(k) for k in keys if r.get(k)]
        ids += [i for k in keys for i in r.numbered(k)]
        if tables:
            ids += [t for p in tables.split() for t in r.numbered(p)]
        arns = [_ec2_arn(r, i) for i in ids]
        return arns + ([r.arn(f"{new}/*")] if new else [])

    return resolve


_glue_job = _named("job/{}", "JobName")
_crawler = _named("crawler/{}", "Name")
_function = _named("function:{}", "FunctionName")
_rule_by_name = _named("rule/{}", "Name")
_rule = _named("rule/{}", "Rule")
_group = _named("log-group:{}", "logGroupName")
_workgroup = _named("workgroup/{}", "WorkGroup")


def _query_workgroup(r: _Request) -> list[str]:
    """A query's calls act on the workgroup it ran in (Service Authorization Reference, Amazon
    Athena: GetQueryExecution, GetQueryResults, StopQueryExecution take `workgroup`)."""
    query = r.sandbox.state.get("athena_queries", {}).get(r.get("QueryExecutionId"))
    return [r.arn(f"workgroup/{query.workgroup if query is not None else 'primary'}")]


_role = _named("role/{}", "RoleName")
_cluster = _named("cluster:{}", "ClusterIdentifier")
_subnet_group = _named("subnetgroup:{}", "ClusterSubnetGroupName")
_topic_by_name = _named("{}", "Name", service="sns")


def _alarms(r: _Request) -> list[str]:
    """CloudWatch alarms by name: AlarmName, or AlarmNames (a JSON list, as botocore sends
    CloudWatch's requests in its JSON protocol; AlarmNames.member.N in the query protocol)."""
    listed = r.params.get("AlarmNames")
    if r.get("AlarmName"):
        names = [r.get("AlarmName")]
    elif isinstance(listed, list):
        names = [str(n) for n in listed]
    else:
        names = r.numbered("AlarmNames.member")
    return [r.arn(f"alarm:{n}") for n in names] or ["*"]


_STAR: Resolver = lambda r: ["*"]  # noqa: E731  (no resource type: "*")

# (service, operation) -> the resources its action acts on. Resource types from the Service
# Authorization Reference for each service.
VPCE_SERVICE_NAME = {"CreateVpcEndpoint", "DeleteVpcEndpoints"}
"""The EC2 actions on a vpc-endpoint whose Service Authorization Reference entry lists
ec2:VpceServiceName (Amazon EC2, Actions table; tests/sandbox/test_arns.py checks it against
parliament's copy of that table): ModifyVpcEndpoint and CreateTags/DeleteTags do not, so a
condition on it never holds for them."""
_TAGGING = {"CreateTags", "DeleteTags"}
"""EC2's tagging calls name their tags as Tag.N.Key/Value: the keys are the request's
aws:TagKeys (and, with a value, aws:RequestTag/<key>) as for a TagSpecification (Amazon EC2
User Guide, "Grant permission to tag resources": aws:TagKeys and aws:RequestTag on CreateTags
and DeleteTags). A DeleteTags without Tags has no aws:TagKeys at all: it deletes every tag."""


_RESOURCES: dict[tuple[str, str], Resolver] = {
    **{("glue", op): _glue_job for op in ("StartJobRun", "GetJobRun", "GetJobRuns", "GetJob")},
    **{("glue", op): _glue_job for op in ("BatchStopJobRun", "UpdateJob", "DeleteJob")},
    ("glue", "CreateJob"): _named("job/{}", "Name"),
    **{("glue", f"{v}Crawler"): _crawler for v in ("Get", "Start", "Stop", "Update", "Delete")},
    ("glue", "CreateDatabase"): _catalog("database", "DatabaseInput", "Name"),
    **{("glue", f"{v}Database"): _catalog("database", "Name") for v in ("Get", "Update")},
    ("glue", "DeleteDatabase"): _database_delete,
    ("glue", "GetTable"): _table,
    **{
        ("glue", f"{v}Connection"): _catalog("connection", *path)
        for v, path in (
            ("Create", ("ConnectionInput", "Name")),
            ("Get", ("Name",)),
            ("Update", ("Name",)),
            ("Delete", ("ConnectionName",)),
        )
    },
    **{("glue", op): _given_arn("ResourceArn") for op in ("GetTags", "TagResource")},
    **{
        ("iam", op): _role
        for op in (
            "CreateRole DeleteRole DeleteRolePolicy DetachRolePolicy GetRole GetRolePolicy "
            "ListAttachedRolePolicies ListRolePolicies PutRolePolicy TagRole "
            "UpdateAssumeRolePolicy UpdateRole"
        ).split()
    },
    **{
        ("lambda", op): _function
        for op in (
            "AddPermission CreateFunction DeleteFunction GetFunction GetFunctionConfiguration "
            "GetPolicy RemovePermission UpdateFunctionCode UpdateFunctionConfiguration"
        ).split()
    },
    **{("lambda", op): _given_arn("Resource") for op in ("TagResource", "ListTags")},
    # SNS (Service Authorization Reference, Amazon SNS: resource type topic); a subscription's
    # ARN is its topic's ARN and an id.
    ("sns", "CreateTopic"): _topic_by_name,
    **{
        ("sns", op): _given_arn("TopicArn")
        for op in (
            "DeleteTopic GetTopicAttributes SetTopicAttributes ListSubscriptionsByTopic Subscribe"
        ).split()
    },
    ("sns", "Unsubscribe"): _given_arn("SubscriptionArn"),
    **{("sns", op): _given_arn("ResourceArn") for op in ("TagResource", "ListTagsForResource")},
    # CloudWatch (Service Authorization Reference, Amazon CloudWatch: resource type alarm).
    **{("cloudwatch", op): _alarms for op in ("PutMetricAlarm", "DeleteAlarms", "DescribeAlarms")},
    **{
        ("cloudwatch", op): _given_arn("ResourceARN")
        for op in ("TagResource", "ListTagsForResource")
    },
    **{("events", op): _rule_by_name for op in ("PutRule", "DeleteRule", "DescribeRule")},
    **{("events", op): _rule for op in ("PutTargets", "RemoveTargets", "ListTargetsByRule")},
    **{("events", op): _given_arn("ResourceARN") for op in ("TagResource", "ListTagsForResource")},
    **{
        ("logs", op): _group
        for op in ("CreateLogGroup DeleteLogGroup PutRetentionPolicy FilterLogEvents".split())
    },
    **{("logs", op): _given_arn("resourceArn") for op in ("TagResource", "ListTagsForResource")},
    **{
        ("secretsmanager", op): _secret
        for op in (
            "CreateSecret DeleteSecret DescribeSecret GetSecretValue PutSecretValue RestoreSecret "
            "TagResource UpdateSecret"
        ).split()
    },
    **{("athena", op): _workgroup for op in ("GetWorkGroup", "UpdateWorkGroup", "DeleteWorkGroup")},
    ("athena", "StartQueryExecution"): _named("workgroup/{}", "WorkGroup"),
    **{
        ("athena", op): _query_workgroup
        for op in ("GetQueryExecution", "GetQueryResults", "StopQueryExecution")
    },
    ("athena", "CreateWorkGroup"): _named("workgroup/{}", "Name"),
    **{("athena", op): _given_arn("ResourceARN") for op in ("TagResource", "ListTagsForResource")},
    **{
        ("redshift", op): _cluster
        for op in (
            "CreateCluster DeleteCluster ModifyCluster ModifyClusterIamRoles ResumeCluster".split()
        )
    },
    **{
        ("redshift", op): _subnet_group
        for op in (
            "CreateClusterSubnetGroup DeleteClusterSubnetGroup ModifyClusterSubnetGroup".split()
        )
    },
    ("redshift", "CreateTags"): _given_arn("ResourceName"),
    **{("redshift-data", op): _data_api for op in ("ExecuteStatement", "BatchExecuteStatement")},
    **{
        ("redshift-serverless", f"{v}Namespace"): _serverless("namespace", "namespaceName")
        for v in ("Create", "Get", "Update", "Delete")
    },
    **{
        ("redshift-serverless", f"{v}Workgroup"): _serverless("workgroup", "workgroupName")
        for v in ("Create", "Get", "Update", "Delete")
    },
    **{
        ("redshift-serverless", op): _given_arn("resourceArn")
        for op in ("TagResource", "ListTagsForResource")
    },
    ("ec2", "CreateSecurityGroup"): _ec2("VpcId", new="security-group"),
    ("ec2", "CreateVpcEndpoint"): _ec2(
        "VpcId", "RouteTableId", "SubnetId", "SecurityGroupId", new="vpc-endpoint"
    ),
    ("ec2", "DescribeVpcAttribute"): _ec2("VpcId"),
    **{
        ("ec2", op): _ec2("GroupId")
        for op in (
            "AuthorizeSecurityGroupIngress RevokeSecurityGroupIngress DeleteSecurityGroup".split()
        )
    },
    ("ec2", "DeleteVpcEndpoints"): _ec2("VpcEndpointId"),
    ("ec2", "ModifyVpcEndpoint"): _ec2(
        "VpcEndpointId",
        tables="AddRouteTableId RemoveRouteTableId AddSubnetId AddSecurityGroupId",
    ),
    **{("ec2", op): _ec2("ResourceId") for op in sorted(_TAGGING)},
    **{
        key: _STAR
        for key in [
            *(
                ("ec2", f"Describe{x}")
                for x in "RouteTables SecurityGroups Subnets VpcEndpoints Vpcs".split()
            ),
            *(("glue", f"{v}Classifier") for v in ("Create", "Delete", "Get", "Update")),
            ("glue", "CreateCrawler"),
            ("glue", "GetCrawlerMetrics"),
            ("logs", "DescribeLogGroups"),
            ("redshift", "DescribeClusters"),
            ("redshift", "DescribeClusterSubnetGroups"),
            ("redshift-data", "DescribeStatement"),
            ("redshift-data", "GetStatementResult"),
            ("cloudwatch", "GetMetricStatistics"),
        ]
    },
}

# moto's service names that are not IAM's service prefix.
_IAM_PREFIX = {"awslambda": "lambda"}

# Requests that need no permission at all (STS API reference, GetCallerIdentity: "No
# permissions are required to perform this operation").
UNCHECKED = {("sts", "GetCallerIdentity")}

# (service, operation) -> where the call names roles it hands to which service.
_PASSES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("glue", "CreateJob"): ("glue.amazonaws.com", ("Role",)),
    ("glue", "UpdateJob"): ("glue.amazonaws.com", ("JobUpdate", "Role")),
    ("glue", "CreateCrawler"): ("glue.amazonaws.com", ("Role",)),
    ("glue", "UpdateCrawler"): ("glue.amazonaws.com", ("Role",)),
    ("lambda", "CreateFunction"): ("lambda.amazonaws.com", ("Role",)),
    ("lambda", "UpdateFunctionConfiguration"): ("lambda.amazonaws.com", ("Role",)),
    ("redshift", "CreateCluster"): ("redshift.amazonaws.com", ("IamRoles.IamRoleArn",)),
    ("redshift", "ModifyClusterIamRoles"): ("redshift.amazonaws.com", ("AddIamRoles.IamRoleArn",)),
    ("redshift-serverless", "CreateNamespace"): (
        "redshift-serverless.amazonaws.com",
        ("iamRoles",),
    ),
    ("redshift-serverless", "UpdateNamespace"): (
        "redshift-serverless.amazonaws.com",
        ("iamRoles",),
    ),
}

# (service, create operation) -> (its tags member, the tagging action AWS also checks).
_TAG_ON_CREATE: dict[tuple[str, str], tuple[str, str]] = {
    ("iam", "CreateRole"): ("Tags.member.1.Key", "iam:TagRole"),
    ("secretsmanager", "CreateSecret"): ("Tags", "secretsmanager:TagResource"),
    ("lambda", "CreateFunction"): ("Tags", "lambda:TagResource"),
}


def _roles(r: _Request, path: tuple[str, ...]) -> list[str]:
    value: Any = r.params
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None and len(path) == 1:
        value = r.numbered(path[0]) or None
    values = value if isinstance(value, list) else ([value] if value else [])
    account = r.sandbox.account_id
    return [v if str(v).startswith("arn:") else f"arn:aws:iam::{account}:role/{v}" for v in values]


def _ec2_request_tags(r: _Request, operation: str) -> tuple[Context, str | None]:
    """aws:RequestTag/* and aws:TagKeys from TagSpecification.N.Tag.M (and the create action),
    or from Tag.N of CreateTags/DeleteTags."""
    tags: dict[str, str | None] = {}
    pattern = r"^(Tag)\.(\d+)\.Key$" if operation in _TAGGING else (
        r"^(TagSpecification\.\d+\.Tag)\.(\d+)\.Key$"
    )  # fmt: skip
    for key, value in r.params.items():
        if m := re.match(pattern, key):
            tags[str(value)] = r.params.get(f"{m[1]}.{m[2]}.Value")
    if not tags:
        return {}, None
    context: Context = {f"aws:RequestTag/{k}": str(v) for k, v in tags.items() if v is not None}
    context["aws:TagKeys"] = sorted(tags)
    return context, "tagged"


def _ec2_resource_tags(r: _Request, operation: str, arn: str) -> Context:
    """aws:ResourceTag/<key> of an existing resource, and a VPC endpoint's ec2:VpceServiceName
    for the actions that take it (`VPCE_SERVICE_NAME`)."""
    resource_id = arn.rsplit("/", 1)[-1]
    if resource_id == "*":
        return {}
    backend = r.sandbox.backend("ec2")
    context: Context = {
        f"aws:ResourceTag/{k}": v for k, v in backend.tags.get(resource_id, {}).items()
    }
    endpoint = backend.vpc_end_points.get(resource_id)
    if endpoint is not None and operation in VPCE_SERVICE_NAME:
        context["ec2:VpceServiceName"] = endpoint.service_name
    return context


def _own(r: _Request, operation: str, resources: list[str]) -> list[Check]:
    action = f"{r.service}:{operation}"
    if r.service != "ec2":
        return [Check(action, arn) for arn in resources]
    request_tags, tagged = _ec2_request_tags(r, operation)
    if operation == "CreateVpcEndpoint":
        request_tags["ec2:VpceServiceName"] = r.get("ServiceName")
    checks = [
        Check(action, arn, {**request_tags, **_ec2_resource_tags(r, operation, arn)})
        for arn in resources
    ]
    if tagged and operation.startswith("Create"):
        checks += [
            Check("ec2:CreateTags", arn, {**request_tags, "ec2:CreateAction": operation})
            for arn in resources
            if arn.endswith("/*")
        ]
    return checks


def checks(
    sandbox: SandboxView, service: str, operation: str, params: dict[str, Any]
) -> list[Check]:
    """The IAM checks of one request (see the module docstring); [] for one AWS never checks."""
    service = _IAM_PREFIX.get(service, service)
    if (service, operation) in UNCHECKED:
        return []
    r = _Request(sandbox, service, params)
    resolve = _RESOURCES.get((service, operation), _STAR)
    resources = resolve(r)
    found = _own(r, operation, resources)
    if (service, operation) in _PASSES:
        to, path = _PASSES[(service, operation)]
        found += [
            Check("iam:PassRole", role, {"iam:PassedToService": to}) for role in _roles(r, path)
        ]
    if (service, operation) in _TAG_ON_CREATE:
        member, action = _TAG_ON_CREATE[(service, operation)]
        if r.params.get(member):
            found += [Check(action, arn) for arn in resources]
    if (service, operation) == ("cloudwatch", "PutMetricData"):
        # cloudwatch:namespace, the condition key PutMetricData is scoped by (Service
        # Authorization Reference, Amazon CloudWatch; the Glue role's metrics statement).
        namespace = r.get("Namespace")
        found = [Check(c.action, c.resource, {**c.context, "cloudwatch:namespace": namespace})
                 for c in found]  # fmt: skip
    if (service, operation) == ("lambda", "GetFunction") and _function_tagged(r, resources[0]):
        found.append(Check("lambda:ListTags", resources[0]))
    return found


def _function_tagged(r: _Request, arn: str) -> bool:
    from moto.awslambda.exceptions import UnknownFunctionException

    try:
        function = r.sandbox.backend("lambda").get_function(arn)
    except UnknownFunctionException:
        return False
    return bool(getattr(function, "tags", None))


# S3: the IAM action of a REST request (Service Authorization Reference, Amazon S3; moto's own
# ACTION_MAP, moto/s3/responses.py, misses the subresources below and names them CreateBucket).
# Bucket subresource -> its action for GET, PUT and DELETE.
_S3_BUCKET: dict[str, tuple[str, str, str]] = {
    "encryption": (
        "GetEncryptionConfiguration",
        "PutEncryptionConfiguration",
        "PutEncryptionConfiguration",
    ),
    "ownershipControls": (
        "GetBucketOwnershipControls",
        "PutBucketOwnershipControls",
        "PutBucketOwnershipControls",
    ),
    "publicAccessBlock": (
        "GetBucketPublicAccessBlock",
        "PutBucketPublicAccessBlock",
        "PutBucketPublicAccessBlock",
    ),
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "lifecycle": (
        "GetLifecycleConfiguration",
        "PutLifecycleConfiguration",
        "PutLifecycleConfiguration",
    ),
    "tagging": ("GetBucketTagging", "PutBucketTagging", "PutBucketTagging"),
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", "PutBucketVersioning"),
    "notification": ("GetBucketNotification", "PutBucketNotification", "PutBucketNotification"),
    "acl": ("GetBucketAcl", "PutBucketAcl", "PutBucketAcl"),
    "versions": ("ListBucketVersions", "ListBucketVersions", "ListBucketVersions"),
    "location": ("GetBucketLocation", "GetBucketLocation", "GetBucketLocation"),
}
_METHOD = {"GET": 0, "HEAD": 0, "PUT": 1, "DELETE": 2}
_DELETE_OBJECT = re.compile(r"<Object>(.*?)</Object>", re.S)


def s3_checks(
    method: str, query: dict[str, Any], bucket: str | None, key: str | None, body: str
) -> list[Check]:
    """The checks of one S3 request: its action on the bucket or object, the tagging a
    CreateBucket with Tags needs (s3:TagResource), and DeleteObjects' per-object deletes
    (API reference, DeleteObjects: s3:DeleteObject, s3:DeleteObjectVersion for a version)."""
    if not bucket:  # the service itself: ListBuckets
        return [Check("s3:ListAllMyBuckets", "*")]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if key:
        object_arn = f"{bucket_arn}/{key}"
        versioned = "versionId" in query
        if method in ("GET", "HEAD"):
            return [Check("s3:GetObjectVersion" if versioned else "s3:GetObject", object_arn)]
        if method == "DELETE":
            return [Check("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", object_arn)]
        return [Check("s3:PutObject", object_arn)]
    if method == "POST" and "delete" in query:
        found = []
        for block in _DELETE_OBJECT.findall(body):
            name = re.search(r"<Key>(.*?)</Key>", block, re.S)
            action = "s3:DeleteObjectVersion" if "<VersionId>" in block else "s3:DeleteObject"
            found.append(Check(action, f"{bucket_arn}/{name[1] if name else ''}"))
        return found
    sub = next((s for s in _S3_BUCKET if s in query), None)
    if sub is not None:
        return [Check(f"s3:{_S3_BUCKET[sub][_METHOD.get(method, 0)]}", bucket_arn)]
    if method == "PUT":
        found = [Check("s3:CreateBucket", bucket_arn)]
        if "<Tag>" in body:  # CreateBucketConfiguration's Tags
            found.append(Check("s3:TagResource", bucket_arn))
        return found
    return [Check("s3:DeleteBucket" if method == "DELETE" else "s3:ListBucket", bucket_arn)]
