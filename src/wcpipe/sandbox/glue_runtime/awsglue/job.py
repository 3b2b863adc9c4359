"""`awsglue.job.Job`, mirroring awslabs/aws-glue-libs `awsglue/job.py` (sync-glue-5.1).

The option-name class methods are AWS's, verbatim. `init` and `commit` are Glue's JVM calls
(`com.amazonaws.services.glue.util.Job`); here `commit` records the bookmark state the catalog
reads collected (see `_runtime`), which the sandbox commits only when the run succeeds, as Glue
does.
"""

from __future__ import annotations

from typing import Any

from awsglue import _runtime


class Job:
    @classmethod
    def continuation_options(cls) -> list[str]:
        return [
            "--continuation-option",
            "continuation-enabled",
            "continuation-readonly",
            "continuation-ignore",
        ]

    @classmethod
    def job_bookmark_options(cls) -> list[str]:
        return [
            "--job-bookmark-option",
            "job-bookmark-enable",
            "job-bookmark-pause",
            "job-bookmark-disable",
        ]

    @classmethod
    def job_bookmark_range_options(cls) -> list[str]:
        return ["--job-bookmark-from", "--job-bookmark-to"]

    @classmethod
    def id_params(cls) -> list[str]:
        return ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]

    @classmethod
    def encryption_type_options(cls) -> list[str]:
        return ["--encryption-type", "sse-s3"]

    @classmethod
    def data_lineage_options(cls) -> list[str]:
        return ["--enable-data-lineage"]

    def __init__(self, glue_context_or_spark_session: Any) -> None:
        # AWS's: a GlueContext or a SparkSession, anything else is refused.
        from awsglue.context import GlueContext
        from pyspark.sql import SparkSession

        if isinstance(glue_context_or_spark_session, GlueContext):
            self._glue_context: GlueContext | None = glue_context_or_spark_session
            self._spark_session = glue_context_or_spark_session.spark_session
        elif isinstance(glue_context_or_spark_session, SparkSession):
            self._glue_context = None
            self._spark_session = glue_context_or_spark_session
        else:
            raise Exception(
                "cannot init Job instance given input parameter type: "
                + str(type(glue_context_or_spark_session))
            )
        self._initialized = False

    def init(self, job_name: str, args: dict[str, Any] | None = None) -> None:
        """Glue's Job.init: names the job and takes the resolved options, whose
        `job_bookmark_option` turns bookmarks on for the reads that name a transformation_ctx."""
        _runtime.STATE.job_name = job_name
        _runtime.STATE.bookmark_option = str(
            (args or {}).get("job_bookmark_option") or "job-bookmark-disable"
        )
        self._initialized = True

    def isInitialized(self) -> bool:  # AWS's camelCase name
        return self._initialized

    def commit(self) -> None:
        """Glue's Job.commit: the reads' bookmark state becomes the job's (on success)."""
        _runtime.STATE.commit()
