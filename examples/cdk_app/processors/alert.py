"""Sends each suspicious click to the app's SQS queue (ALERTS_QUEUE_URL, set by app.py)."""

import json
import os

import boto3

_sqs = None  # made on first use, then kept for the function's warm invocations


def handler(event, context):
    global _sqs
    _sqs = _sqs or boto3.client("sqs")
    _sqs.send_message(QueueUrl=os.environ["ALERTS_QUEUE_URL"], MessageBody=json.dumps(event))
