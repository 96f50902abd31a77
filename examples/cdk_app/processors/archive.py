"""Writes each click to the app's S3 bucket (named by ARCHIVE_BUCKET, which app.py sets)."""

import json
import os

import boto3

_s3 = None  # made on first use, then kept for the function's warm invocations


def handler(event, context):
    global _s3
    _s3 = _s3 or boto3.client("s3")
    _s3.put_object(
        Bucket=os.environ["ARCHIVE_BUCKET"],
        Key=f"clicks/{event['user']}/{context.trace_id}.json",
        Body=json.dumps(event).encode(),
    )
