"""Shim of AWS's `awsglue` package for the sandbox's Spark engine (see `..__init__`).

Mirrors awslabs/aws-glue-libs `awsglue/__init__.py` (sync-glue-5.1): it exports DynamicFrame.
"""

from awsglue.dynamicframe import DynamicFrame

__all__ = ["DynamicFrame"]
