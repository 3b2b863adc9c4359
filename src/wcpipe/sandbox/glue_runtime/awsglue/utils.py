"""`awsglue.utils.getResolvedOptions`, mirroring awslabs/aws-glue-libs `awsglue/utils.py`
(branches glue-4.0, glue-5.0 and sync-glue-5.1 hold the same function) statement for statement,
so the script meets AWS's argument rules here, including their traps:

- `JOB_ID`, `JOB_RUN_ID` and `SECURITY_CONFIGURATION` are registered before the names you pass;
  naming one again raises `argparse.ArgumentError: … conflicting option string` (AWS's
  reserved-name check compares "--JOB_RUN_ID" with "JOB_RUN_ID" and never fires; aws-glue-libs
  issue #22). The dict the first call returns already holds them.
- Naming a bookmark, continuation, encryption or lineage option raises
  `RuntimeError("Using reserved arguments …")`; `TempDir`/`RedshiftTempDir` are dropped from your
  list (already registered) and mirror each other in the result.
- Unknown arguments are ignored (`parse_known_args`); a missing required one raises
  `GlueArgumentError`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

from awsglue.job import Job

_global_args: dict[str, Any] = {}


class GlueArgumentError(Exception):
    pass


class GlueArgumentParser(argparse.ArgumentParser):
    """AWS's: raises instead of calling sys.exit()."""

    def error(self, message: str) -> NoReturn:
        raise GlueArgumentError(message)


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, Any]:
    parser = GlueArgumentParser()

    if Job.continuation_options()[0][2:] in options:
        raise RuntimeError("Using reserved arguments " + Job.continuation_options()[0][2:])

    if Job.job_bookmark_options()[0][2:] in options:
        raise RuntimeError("Using reserved arguments " + Job.job_bookmark_options()[0][2:])

    parser.add_argument(
        Job.job_bookmark_options()[0], choices=Job.job_bookmark_options()[1:], required=False
    )
    parser.add_argument(
        Job.continuation_options()[0], choices=Job.continuation_options()[1:], required=False
    )

    for option in Job.job_bookmark_range_options():
        if option[2:] in options:
            raise RuntimeError("Using reserved arguments " + option)
        parser.add_argument(option, required=False)

    for option in Job.id_params()[1:]:
        if option in options:  # AWS's check: "--JOB_RUN_ID" is never in ["JOB_RUN_ID"]
            raise RuntimeError("Using reserved arguments " + option)
        parser.add_argument(option, required=False)

    if Job.encryption_type_options()[0] in options:
        raise RuntimeError("Using reserved arguments " + Job.encryption_type_options()[0])
    parser.add_argument(Job.encryption_type_options()[0], choices=Job.encryption_type_options()[1:])

    if Job.data_lineage_options()[0] in options:
        raise RuntimeError("Using reserved arguments " + Job.data_lineage_options()[0])
    parser.add_argument(Job.data_lineage_options()[0], required=False)

    options = [opt for opt in options if opt not in {"RedshiftTempDir", "TempDir"}]
    parser.add_argument("--RedshiftTempDir", required=False)
    parser.add_argument("--TempDir", required=False)

    for option in options:
        parser.add_argument("--" + option, required=True)

    parsed, _extra = parser.parse_known_args(list(args)[1:])

    parsed_dict = vars(parsed)

    if "TempDir" in parsed_dict and parsed_dict["TempDir"] is not None:
        parsed_dict["RedshiftTempDir"] = parsed_dict["TempDir"]
    elif "RedshiftTempDir" in parsed and parsed_dict["RedshiftTempDir"] is not None:
        parsed_dict["TempDir"] = parsed_dict["RedshiftTempDir"]

    bookmark_value = parsed_dict.pop("continuation_option", None)
    if "job_bookmark_option" not in parsed_dict or parsed_dict["job_bookmark_option"] is None:
        if bookmark_value is None:
            bookmark_value = Job.job_bookmark_options()[3]
        else:
            option_index = Job.continuation_options().index(bookmark_value)
            bookmark_value = Job.job_bookmark_options()[option_index]
        parsed_dict["job_bookmark_option"] = bookmark_value
    absent_range_option = []
    for option in Job.job_bookmark_range_options():
        key = option[2:].replace("-", "_")
        if key not in parsed_dict or parsed_dict[key] is None:
            absent_range_option.append(option)
    if parsed_dict["job_bookmark_option"] == "job-bookmark-pause":
        if len(absent_range_option) == 1:
            raise RuntimeError("Missing option or value for " + absent_range_option[0])
    elif len(absent_range_option) == 0:
        raise RuntimeError("Invalid option(s)" + " ".join(Job.job_bookmark_range_options()))

    _global_args.update(parsed_dict)

    return parsed_dict
