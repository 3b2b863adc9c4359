"""The Athena workgroup operations as AWS behaves, where moto 5.2.5 differs: GetWorkGroup of a
workgroup that does not exist answers InvalidRequestException "WorkGroup <name> is not found."
(moto answers {"WorkGroup": null}), and UpdateWorkGroup, which moto lacks, applies
ConfigurationUpdates (Athena API reference, "UpdateWorkGroup": EnforceWorkGroupConfiguration,
ResultConfigurationUpdates.OutputLocation / RemoveOutputLocation, BytesScannedCutoffPerQuery /
RemoveBytesScannedCutoffPerQuery, PublishCloudWatchMetricsEnabled, RequesterPaysEnabled), its
Description and State. `install()` adds them once per process (`context.once`), for moto's
in-process mock too: they are what AWS does, sandbox or not. PINS names the moto internals used.
"""

from __future__ import annotations

import json
from typing import Any

from wcpipe.sandbox.context import once

PINS: tuple[tuple[str, str], ...] = (("moto.athena.responses", "AthenaResponse"),)

_FLAGS = (
    "EnforceWorkGroupConfiguration",
    "PublishCloudWatchMetricsEnabled",
    "RequesterPaysEnabled",
)


def _not_found(response: Any, name: str) -> Any:
    return response.error(f"WorkGroup {name} is not found.", 400)  # InvalidRequestException


def get_work_group(self: Any) -> Any:
    name = self._get_param("WorkGroup")
    found = self.athena_backend.get_work_group(name)
    return json.dumps({"WorkGroup": found}) if found else _not_found(self, name)


def update_work_group(self: Any) -> Any:
    name = self._get_param("WorkGroup")
    group = self.athena_backend.work_groups.get(name)
    if group is None:
        return _not_found(self, name)
    updates = self._get_param("ConfigurationUpdates") or {}
    config = group.configuration
    for flag in _FLAGS:
        if flag in updates:
            config[flag] = bool(updates[flag])
    results = updates.get("ResultConfigurationUpdates") or {}
    if results.get("RemoveOutputLocation"):
        config.get("ResultConfiguration", {}).pop("OutputLocation", None)
    if "OutputLocation" in results:
        config.setdefault("ResultConfiguration", {})["OutputLocation"] = results["OutputLocation"]
    if updates.get("RemoveBytesScannedCutoffPerQuery"):
        config.pop("BytesScannedCutoffPerQuery", None)
    if "BytesScannedCutoffPerQuery" in updates:
        config["BytesScannedCutoffPerQuery"] = int(updates["BytesScannedCutoffPerQuery"])
    if self._get_param("Description") is not None:
        group.description = self._get_param("Description")
    return "{}"


@once
def install() -> None:
    from moto.athena.responses import AthenaResponse

    setattr(AthenaResponse, "get_work_group", get_work_group)  # noqa: B010 (a method replaced)
    if "update_work_group" not in vars(AthenaResponse):
        setattr(AthenaResponse, "update_work_group", update_work_group)  # noqa: B010
