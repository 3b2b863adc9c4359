"""wcpipe: an S3 -> Glue -> Redshift pipeline from one YAML file."""

__version__ = "0.1.0"
