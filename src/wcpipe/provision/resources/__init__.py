"""The pipeline's resources, one AWS service per module, and the catalog that lists them. A
service too big for one module spans two: `glue` (the catalog side) and `glue_jobs` (the crawlers
and the job); `s3` (the bucket) and `s3_objects` (the artifacts and the data files); `iam` (the
roles) and `iam_policies` (their policy documents, pure data); `ec2` (the VPC lookup and the
security group), `ec2_endpoint` (the S3 gateway endpoint) and `ec2_endpoint_secrets` (the
Secrets Manager interface endpoint).

Dependency keys (`<service>.<what>`), for orientation:

    s3.bucket ─┬─ s3.artifacts ─┬─ glue.job
               └─ s3.data       └─ lambda.function ── lambda.permission ── events.rule
    iam.glue-role, iam.lambda-role, iam.redshift-role, secretsmanager.admin-secret
    ec2.security-group, ec2.s3-endpoint, redshift.subnet-group
    ec2.security-group ── ec2.secrets-endpoint (unless a NAT or another endpoint reaches it)
      └─ redshift.cluster | redshift-serverless.namespace ── redshift-serverless.workgroup
           └─ redshift-data.table ── glue.redshift-crawler
           └─ glue.connection ── glue.job, glue.redshift-crawler
    glue.classifier, glue.s3-database ── glue.s3-crawler
    logs.lambda-log-group ── lambda.function
    s3.bucket ── athena.workgroup (verify's queries; results in the bucket)
    sns.topic ─┬─ sns.email-subscriptions (only with `alerts` in the spec)
               ├─ events.job-failed-rule, events.crawl-failed-rule
               └─ cloudwatch.lambda-errors-alarm, cloudwatch.no-load-alarm
    cloudwatch.rejected-values-alarm (no action: the job-failed alert says it, with the run)
    trigger on-arrival: s3.event-notifications, lambda.arrival-permission ── events.arrival-rule
                        lambda.job-succeeded-permission ── events.job-succeeded-rule
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wcpipe.provision.resources.base import Context, Resource

if TYPE_CHECKING:
    from wcpipe.spec.model import Spec


def catalog(ctx: Context) -> list[Resource]:
    """Every resource the spec declares, in no particular order (the engine orders them)."""
    return [cls(ctx) for cls, declared in classes(ctx.spec) if declared]


def undeclared(ctx: Context) -> list[Resource]:
    """Every resource this pipeline may own under another spec that this spec does not declare
    (the other warehouse type's, after `warehouse.type` changed; each says under which setting
    it is declared): `plan` shows their removal where they exist, `up` and `down` delete them."""
    return [cls(ctx) for cls, declared in classes(ctx.spec) if not declared]


def classes(spec: Spec) -> list[tuple[type[Resource], bool]]:
    """Each resource class a pipeline can have, and whether this spec declares it: the one
    place that decides it (the operator's policy asks here too: `operator_policy.Declared`).

    The service modules are imported here, not at the top, so that importing `resources.base`
    alone (for `Context`) loads none of them. No service module imports this package's
    `__init__` back: what they share lives in `base.py`."""
    import wcpipe.provision.resources.athena as athena
    import wcpipe.provision.resources.cloudwatch as cloudwatch
    import wcpipe.provision.resources.ec2 as ec2
    import wcpipe.provision.resources.ec2_endpoint as ec2_endpoint
    import wcpipe.provision.resources.ec2_endpoint_secrets as ec2_endpoint_secrets
    import wcpipe.provision.resources.events as events
    import wcpipe.provision.resources.events_alerts as events_alerts
    import wcpipe.provision.resources.glue as glue
    import wcpipe.provision.resources.glue_jobs as glue_jobs
    import wcpipe.provision.resources.iam as iam
    import wcpipe.provision.resources.lambda_ as lambda_
    import wcpipe.provision.resources.logs as logs
    import wcpipe.provision.resources.redshift as redshift
    import wcpipe.provision.resources.redshift_data as redshift_data
    import wcpipe.provision.resources.redshift_serverless as redshift_serverless
    import wcpipe.provision.resources.s3 as s3
    import wcpipe.provision.resources.s3_objects as s3_objects
    import wcpipe.provision.resources.secretsmanager as secretsmanager
    import wcpipe.provision.resources.sns as sns

    always: list[type[Resource]] = [
        s3.Bucket,
        s3_objects.Artifacts,
        iam.GlueRole,
        iam.LambdaRole,
        iam.RedshiftRole,
        secretsmanager.AdminSecret,
        ec2.SecurityGroup,
        ec2_endpoint.S3Endpoint,
        ec2_endpoint_secrets.SecretsEndpoint,
        glue.Classifier,
        glue.S3Database,
        glue.RedshiftDatabase,
        glue.Connection,
        glue_jobs.S3Crawler,
        glue_jobs.RedshiftCrawler,
        glue_jobs.Job,
        redshift_data.TargetTable,
        logs.LambdaLogGroup,
        lambda_.Function,
        lambda_.Permission,
        events.Rule,
        athena.Workgroup,
    ]
    # data.source: the data is already in S3, in a bucket that is not ours: nothing to upload.
    if spec.data.source is None:
        always.append(s3_objects.DataFiles)
    serverless = spec.warehouse.type == "serverless"
    alerts = spec.alerts is not None
    arrival = spec.on_arrival
    return [
        *((cls, True) for cls in always),
        (redshift_serverless.Namespace, serverless),
        (redshift_serverless.Workgroup, serverless),
        (redshift.SubnetGroup, not serverless),
        (redshift.Cluster, not serverless),
        *(
            (cls, alerts)
            for cls in (
                sns.Topic,
                sns.EmailSubscriptions,
                events_alerts.JobFailedRule,
                events_alerts.CrawlFailedRule,
                cloudwatch.LambdaErrorsAlarm,
                cloudwatch.RejectedValuesAlarm,
                cloudwatch.NoLoadAlarm,
            )
        ),
        *(
            (cls, arrival)
            for cls in (
                s3_objects.EventNotifications,
                lambda_.ArrivalPermission,
                events.ArrivalRule,
                lambda_.JobSucceededPermission,
                events.JobSucceededRule,
            )
        ),
    ]
