"""Athena: the workgroup `verify` runs its source-side queries in, with the pipeline's own result
location (README, "verify where the data is").

Contract (see `resources/base.py`): `describe` reads only (GetWorkGroup, ListTagsForResource);
`differences` is pure and names `result location`, `enforced` and `tags`; `create`, `update`
and `delete` are the only mutations.

- The results go to `Names.athena_results_uri`, inside the pipeline's bucket and outside its
  data prefix (Athena reads every object under a table's location), so `down` removes them with
  the bucket. The workgroup's settings are enforced (EnforceWorkGroupConfiguration): a query in
  it cannot send its results elsewhere.
- GetWorkGroup of a workgroup that does not exist answers InvalidRequestException ("WorkGroup
  <name> is not found."): that is "absent". DeleteWorkGroup takes RecursiveDeleteOption, so the
  workgroup goes with its saved queries; a second delete finds nothing.
"""

from __future__ import annotations

from typing import Any

from wcpipe.core.errors import ignoring
from wcpipe.provision.resources.base import (
    TAGS,
    Difference,
    Differences,
    Observed,
    Resource,
    compare,
    tag_list,
    tags_from_list,
)

_ABSENT = "InvalidRequestException"
RESULT_LOCATION = "result location"
ENFORCED = "enforced"


class Workgroup(Resource):
    key = "athena.workgroup"
    kind = "Athena workgroup"
    depends_on = ("s3.bucket",)

    @property
    def name(self) -> str:
        return self.ctx.names.athena_workgroup

    @property
    def _athena(self) -> Any:
        return self.ctx.client("athena")

    @property
    def _arn(self) -> str:
        return self.ctx.aws.arn("athena", f"workgroup/{self.name}")

    def describe(self) -> Observed | None:
        found = ignoring(lambda: self._athena.get_work_group(WorkGroup=self.name), _ABSENT)
        group = (found or {}).get("WorkGroup")
        if not group:
            return None
        tags = self._athena.list_tags_for_resource(ResourceARN=self._arn).get("Tags")
        return Observed(data=dict(group), tags=tags_from_list(tags))

    def differences(self, observed: Observed) -> list[Difference]:
        config = observed.data.get("Configuration") or {}
        location = (config.get("ResultConfiguration") or {}).get("OutputLocation")
        fields = compare(
            [
                (RESULT_LOCATION, location, self.ctx.names.athena_results_uri),
                (ENFORCED, config.get("EnforceWorkGroupConfiguration"), True),
            ]
        )
        return fields + self.tag_differences(observed)

    def create(self) -> Observed | None:
        configuration = {
            "ResultConfiguration": {"OutputLocation": self.ctx.names.athena_results_uri},
            "EnforceWorkGroupConfiguration": True,
        }
        try:
            self._athena.create_work_group(
                Name=self.name,
                Configuration=configuration,
                Description=f"wcpipe pipeline {self.ctx.spec.name}: verify's source-side queries",
                Tags=tag_list(self.ctx.tags),
            )
        except self._athena.exceptions.InvalidRequestException:
            # A name taken is InvalidRequestException too: if a concurrent run of this pipeline
            # has just made it, that is an outcome, not a failure.
            found = self.describe()
            if found is None or not self.owned(found):
                raise
        return None  # described again: GetWorkGroup adds the defaults AWS fills in

    def update(self, observed: Observed, fields: Differences) -> None:
        updates: dict[str, Any] = {}
        if RESULT_LOCATION in fields:
            location = self.ctx.names.athena_results_uri
            updates["ResultConfigurationUpdates"] = {"OutputLocation": location}
        if ENFORCED in fields:
            updates["EnforceWorkGroupConfiguration"] = True
        if updates:
            self._athena.update_work_group(WorkGroup=self.name, ConfigurationUpdates=updates)
        if TAGS in fields:
            self.sync_tags(
                observed,
                lambda tags: self._athena.tag_resource(ResourceARN=self._arn, Tags=tag_list(tags)),
            )

    def delete(self, observed: Observed) -> None:
        ignoring(
            lambda: self._athena.delete_work_group(WorkGroup=self.name, RecursiveDeleteOption=True),
            _ABSENT,
        )

    def outputs(self, observed: Observed) -> dict[str, Any]:
        return {"name": self.name, "result_location": self.ctx.names.athena_results_uri}

    def facts(self, observed: Observed) -> dict[str, str]:
        config = observed.data.get("Configuration") or {}
        location = (config.get("ResultConfiguration") or {}).get("OutputLocation", "")
        return {"state": str(observed.data.get("State", "")), "results": str(location)}
