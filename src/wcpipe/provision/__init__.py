"""Provisioning: the plan/up/down engine over the resource graph (`engine`), the artifacts built
for AWS (`artifacts`: the Lambda package and the Glue job's lib zip) and one class per resource,
one AWS service per module (`resources/`)."""
