"""Glue's catalog side: the CSV classifier, the two catalog databases and the Redshift
connection, plus what every Glue resource shares (`GlueResource`, the error codes).
The crawlers and the load job live in `glue_jobs.py`, on the same base.

Contract (see `resources/base.py`), for every Glue resource in both modules:
- `describe()` makes only read calls (`get_*`, `get_tags`) and returns None when Glue answers
  EntityNotFoundException.
- `differences()` is pure and compares only the fields wcpipe sets; a desired value that is not
  known until a dependency exists (`AFTER_UP`: this run found the dependency absent, and `up`
  creates it first) is a difference shown as `old -> (known after up)`, as Terraform shows it,
  so `up` updates it once the dependency exists (a new Serverless workgroup's endpoint after
  `warehouse.type` changed); one whose dependency this run did not describe (`UNKNOWN`) is not
  compared.
- `create()`, `update()` and `delete()` are the only methods that mutate. Glue's Update* calls
  replace the whole definition, so an update always sends the full desired definition. `create()`
  returns the definition it sent (and our tags) as what a describe would find; when Glue answers
  AlreadyExistsException (a concurrent run made it) it describes and refuses one not ours.
- Tags (everything but the classifier, which Glue cannot tag) are set on create, read with
  `get_tags` on the resource's ARN, and corrected by the tag policy of `base.py` with
  `tag_resource` (tags others added stay).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from wcpipe.core.errors import ignoring
from wcpipe.provision.resources.base import (
    TAGS,
    Difference,
    Differences,
    Observed,
    Resource,
    compare,
    warehouse_key,
)

UNKNOWN = "(unknown)"
"""A desired value whose dependency this run has not described: not compared."""
AFTER_UP = "(known after up)"
"""A desired value whose dependency this run found absent: `up` creates it, then this value is
known; it differs from what is there (Terraform's "known after apply")."""
"""A desired value that depends on a resource not created yet."""

NOT_FOUND = "EntityNotFoundException"
ALREADY_EXISTS = "AlreadyExistsException"


class GlueResource(Resource):
    """What every Glue resource shares: the client, the ARN, tags, not-found handling."""

    arn_type: ClassVar[str]

    @property
    def glue(self) -> Any:
        return self.ctx.client("glue")

    @property
    def arn(self) -> str:
        return self.ctx.aws.arn("glue", f"{self.arn_type}/{self.name}")

    def _observe(self, get: Callable[[], dict[str, Any]]) -> Observed | None:
        data = ignoring(get, NOT_FOUND)
        if data is None:
            return None
        tags = self.glue.get_tags(ResourceArn=self.arn).get("Tags", {}) if self.taggable else {}
        return Observed(data, dict(tags))

    def _created(self, response: Any, definition: dict[str, Any]) -> Observed | None:
        """What a create returns: the definition sent, with our tags, when Glue created it;
        when it already existed (`response` None: AlreadyExists ignored), what a describe
        finds, refused if it is not ours."""
        if response is None:
            observed = self.describe()
            if observed is not None:
                self.check_owned(observed)
            return observed
        return Observed(definition, dict(self.ctx.tags) if self.taggable else {})

    def _sync_tags(self, observed: Observed) -> None:
        self.sync_tags(
            observed,
            lambda tags: self.glue.tag_resource(ResourceArn=self.arn, TagsToAdd=tags),
        )

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"name": self.name, "arn": self.arn}


# Classifier ---------------------------------------------------------------------------------


class Classifier(GlueResource):
    """A CSV classifier that states the header. Glue's built-in CSV classifier decides whether
    the first line is a header by comparing its types with the data's; when every column is a
    string (as in the FIFA file) it cannot tell, and names the columns col0, col1, ..."""

    key = "glue.classifier"
    kind = "CSV classifier"
    taggable = False
    arn_type = "classifier"

    # Glue leaves these out of GetClassifier when they hold their defaults.
    _DEFAULTS: ClassVar[dict[str, Any]] = {
        "DisableValueTrimming": False,
        "AllowSingleColumn": False,
    }

    @property
    def name(self) -> str:
        return self.ctx.names.classifier

    def definition(self) -> dict[str, Any]:
        # Header (the column names) is left unset: the spec does not know the file's columns in
        # file order, and the file's own header line names them.
        csv = self.ctx.spec.data.csv
        return {
            "Name": self.name,
            "Delimiter": csv.delimiter,
            "QuoteSymbol": csv.quote,
            "ContainsHeader": "PRESENT" if csv.header else "ABSENT",
            "DisableValueTrimming": False,
            "AllowSingleColumn": False,
        }

    def describe(self) -> Observed | None:
        return self._observe(
            lambda: self.glue.get_classifier(Name=self.name)["Classifier"].get("CsvClassifier", {})
        )

    def differences(self, observed: Observed) -> list[Difference]:
        return [
            Difference(k, observed.data.get(k, self._DEFAULTS.get(k)), v)
            for k, v in self.definition().items()
            if k != "Name" and observed.data.get(k, self._DEFAULTS.get(k)) != v
        ]

    def create(self) -> Observed | None:
        definition = self.definition()
        response = ignoring(
            lambda: self.glue.create_classifier(CsvClassifier=definition), ALREADY_EXISTS
        )
        return self._created(response, definition)

    def update(self, observed: Observed, fields: Differences) -> None:
        self.glue.update_classifier(CsvClassifier=self.definition())

    def delete(self, observed: Observed) -> None:
        ignoring(lambda: self.glue.delete_classifier(Name=self.name), NOT_FOUND)


# Databases ----------------------------------------------------------------------------------


class _Database(GlueResource):
    kind = "Glue database"
    arn_type = "database"

    @property
    @abstractmethod
    def description(self) -> str: ...

    def _input(self) -> dict[str, Any]:
        return {"Name": self.name, "Description": self.description}

    def describe(self) -> Observed | None:
        return self._observe(lambda: self.glue.get_database(Name=self.name)["Database"])

    def differences(self, observed: Observed) -> list[Difference]:
        have = observed.data.get("Description")
        fields = (
            [] if have == self.description else [Difference("Description", have, self.description)]
        )
        return fields + self.tag_differences(observed)

    def create(self) -> Observed | None:
        database = self._input()
        response = ignoring(
            lambda: self.glue.create_database(DatabaseInput=database, Tags=self.ctx.tags),
            ALREADY_EXISTS,
        )
        return self._created(response, database)

    def update(self, observed: Observed, fields: Differences) -> None:
        if "Description" in fields:
            self.glue.update_database(Name=self.name, DatabaseInput=self._input())
        if TAGS in fields:
            self._sync_tags(observed)

    def delete(self, observed: Observed) -> None:
        # Glue deletes the database's tables (and their partitions) with it.
        ignoring(lambda: self.glue.delete_database(Name=self.name), NOT_FOUND)


class S3Database(_Database):
    key = "glue.s3-database"

    @property
    def name(self) -> str:
        return self.ctx.names.s3_database

    @property
    def description(self) -> str:
        return f"wcpipe {self.ctx.spec.name}: the CSV files under {self.ctx.names.data_uri}"


class RedshiftDatabase(_Database):
    key = "glue.redshift-database"

    @property
    def name(self) -> str:
        return self.ctx.names.redshift_database

    @property
    def description(self) -> str:
        return f"wcpipe {self.ctx.spec.name}: Redshift table {self.ctx.names.jdbc_include_path}"


# Connection ---------------------------------------------------------------------------------


class Connection(GlueResource):
    """The JDBC connection the job and the Redshift crawler use. Credentials come from the admin
    secret (SECRET_ID); the connection never holds a user name or password."""

    key = "glue.connection"
    kind = "Glue connection"
    arn_type = "connection"
    depends_on = (
        "ec2.security-group",
        "secretsmanager.admin-secret",
        "redshift.cluster",
        "redshift-serverless.workgroup",
    )

    @property
    def name(self) -> str:
        return self.ctx.names.connection

    def connection_input(self, *, known: bool = True) -> dict[str, Any]:
        """The ConnectionInput. With `known=False` (planning) a value a dependency has not
        published yet is AFTER_UP when this run found that dependency absent (`up` creates it
        first), else UNKNOWN (not described in this run: nothing to compare), not an error."""

        def value(key: str, name: str) -> Any:
            if known:
                return self.ctx.output(key, name)
            found = self.ctx.output_or(key, name)
            if found is None:
                return AFTER_UP if self.ctx.known_absent(key) else UNKNOWN
            return found

        warehouse = warehouse_key(self.ctx)
        host, port = value(warehouse, "host"), value(warehouse, "port")
        database = self.ctx.spec.warehouse.database
        url = next(
            (v for v in (host, port) if v in (UNKNOWN, AFTER_UP)),
            f"jdbc:redshift://{host}:{port}/{database}",
        )
        group = "ec2.security-group"
        return {
            "Name": self.name,
            "Description": f"wcpipe {self.ctx.spec.name}: Redshift through the admin secret",
            "ConnectionType": "JDBC",
            "ConnectionProperties": {
                "JDBC_CONNECTION_URL": url,
                "SECRET_ID": self.ctx.names.secret,
                "JDBC_ENFORCE_SSL": "true",
            },
            "PhysicalConnectionRequirements": {
                "SubnetId": value(group, "subnet_id"),
                "AvailabilityZone": value(group, "availability_zone"),
                "SecurityGroupIdList": [value(group, "group_id")],
            },
        }

    def describe(self) -> Observed | None:
        return self._observe(
            lambda: self.glue.get_connection(Name=self.name, HidePassword=True)["Connection"]
        )

    def differences(self, observed: Observed) -> list[Difference]:
        want, data = self.connection_input(known=False), observed.data
        fields = compare(
            [
                ("Description", data.get("Description"), want["Description"]),
                # AWS always returns ConnectionType; moto 5.2.5 leaves it out.
                ("ConnectionType", data.get("ConnectionType", "JDBC"), "JDBC"),
            ]
        )
        for section in ("ConnectionProperties", "PhysicalConnectionRequirements"):
            have = data.get(section) or {}
            for k, v in want[section].items():
                values = v if isinstance(v, list) else [v]
                if UNKNOWN in values:
                    continue
                if AFTER_UP in values:
                    v = AFTER_UP
                if have.get(k) != v:
                    fields.append(Difference(f"{section}.{k}", have.get(k), v))
        # Credentials belong in the secret: a user name or password here is drift. Its value is
        # never shown.
        props = data.get("ConnectionProperties") or {}
        fields += [
            Difference(f"ConnectionProperties.{k}", "(set)", None)
            for k in ("USERNAME", "PASSWORD")
            if k in props
        ]
        return fields + self.tag_differences(observed)

    def create(self) -> Observed | None:
        connection = self.connection_input()
        response = ignoring(
            lambda: self.glue.create_connection(ConnectionInput=connection, Tags=self.ctx.tags),
            ALREADY_EXISTS,
        )
        return self._created(response, connection)

    def update(self, observed: Observed, fields: Differences) -> None:
        if any(f != TAGS for f in fields.fields):
            self.glue.update_connection(Name=self.name, ConnectionInput=self.connection_input())
        if TAGS in fields:
            self._sync_tags(observed)

    def delete(self, observed: Observed) -> None:
        ignoring(lambda: self.glue.delete_connection(ConnectionName=self.name), NOT_FOUND)

    def facts(self, observed: Observed) -> dict[str, str]:
        url = (observed.data.get("ConnectionProperties") or {}).get("JDBC_CONNECTION_URL", "")
        return {"url": str(url)}
