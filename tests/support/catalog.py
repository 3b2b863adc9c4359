"""The S3 side of the FIFA pipeline as `up` leaves it, made directly with boto3 for the tests that
need only that: the bucket with a data object, the spec's CSV classifier, the S3 database and
crawler (names from `Names`)."""

from __future__ import annotations

from typing import Any


def spec_classifier(glue: Any, names: Any) -> None:
    """The spec's CSV classifier: comma, double quote, a header."""
    glue.create_classifier(
        CsvClassifier={
            "Name": names.classifier,
            "Delimiter": ",",
            "QuoteSymbol": '"',
            "ContainsHeader": "PRESENT",
        }
    )


def s3_crawler(s3: Any, glue: Any, names: Any, body: bytes) -> str:
    """Bucket, `body` as `<prefix>fifa.csv`, classifier, database and S3 crawler; its name."""
    s3.create_bucket(Bucket=names.bucket)
    s3.put_object(Bucket=names.bucket, Key=f"{names.prefix}fifa.csv", Body=body)
    spec_classifier(glue, names)
    glue.create_database(DatabaseInput={"Name": names.s3_database})
    glue.create_crawler(
        Name=names.s3_crawler,
        Role=names.role_arn(names.glue_role),
        DatabaseName=names.s3_database,
        Classifiers=[names.classifier],
        Targets={"S3Targets": [{"Path": names.data_uri}]},
    )
    return str(names.s3_crawler)
