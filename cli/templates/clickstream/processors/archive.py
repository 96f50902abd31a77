"""Writes each closed minute to S3, as page-minutes/<category>/<minute>.json.

In Lambda (where AWS_LAMBDA_FUNCTION_NAME is set) it puts the object into ARCHIVE_BUCKET,
with the grant in topology.yml; locally (attak simulate, tests) it only emits what it
would write, on the "archived" topic, so a run never touches AWS.
"""

import json
import os

IN_LAMBDA = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
s3 = None
if IN_LAMBDA:
    import boto3  # in Lambda's Python runtime

    s3 = boto3.client("s3")


def object_for(event):
    """The archive object for one minute: its key and its body."""
    key = f"page-minutes/{event['category']}/{event['minute']}.json"
    return key, json.dumps(event, sort_keys=True)


def handler(event, context):
    key, body = object_for(event)
    if s3 is not None:
        s3.put_object(Bucket=os.environ["ARCHIVE_BUCKET"], Key=key, Body=body.encode())
    context.emit("archived", {"key": key, "bytes": len(body)})
