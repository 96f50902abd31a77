"""A CDK app of your own, holding an attak topology and wiring resources of its own to it.

The topology (``topology.yml``) parses clicks, archives them and flags the suspicious
ones; this app owns what the topology only uses: the bucket the archive is written to,
the queue the alerts go to, and the web server's role that writes raw clicks in. Each is
granted to the one function or stream that needs it, with the CDK's own ``grant_*``
methods, which add to that function's own role and to no other.

    cdk synth                    # from this folder (cdk.json runs this file)
    python -m pytest             # its tests (test_clicks_app.py)
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

import attak_cdk

HERE = Path(__file__).resolve().parent


class ClicksStack(cdk.Stack):
    """The clicks pipeline, its archive bucket, its alerts queue and the producer's role."""

    def __init__(self, scope: Construct, id: str, *, env: cdk.Environment | None = None) -> None:
        super().__init__(scope, id, env=env)
        # The topology file's folder, a file, or a model from attak_cdk.project.load_topology.
        self.topology = attak_cdk.Topology(self, "Pipeline", topology=HERE)

        # `archive` writes each click to this bucket.
        self.bucket = s3.Bucket(
            self,
            "Archive",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        archive = self.topology.function("archive")
        self.bucket.grant_write(archive)
        archive.add_environment("ARCHIVE_BUCKET", self.bucket.bucket_name)

        # `alert` sends the suspicious clicks to a queue that another team reads.
        self.alerts = sqs.Queue(
            self,
            "Alerts",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=5,
                queue=sqs.Queue(
                    self,
                    "AlertsDeadLetters",
                    encryption=sqs.QueueEncryption.SQS_MANAGED,
                    enforce_ssl=True,
                ),
            ),
        )
        alert = self.topology.function("alert")
        self.alerts.grant_send_messages(alert)
        alert.add_environment("ALERTS_QUEUE_URL", self.alerts.queue_url)

        # The web server's role may write raw clicks into `parse`'s ingest stream.
        self.producer = iam.Role(
            self, "ClickProducer", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")
        )
        self.topology.ingest_stream("parse").grant_write(self.producer)

        # Where on-call finds the clicks `archive` gave up on.
        cdk.CfnOutput(
            self,
            "ArchiveDeadLetters",
            value=self.topology.dead_letter_queue("archive").queue_url,
        )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        """What cdk-nag (AwsSolutions) reports of this app's own choices, acknowledged with
        the reasons, each on the one resource it concerns."""
        # `grant_write` gives the object actions by pattern (`s3:DeleteObject*`,
        # `s3:Abort*`) on every object of the bucket (`<bucket ARN>/*`): cdk-nag reports
        # each wildcard of the archive function's role (AwsSolutions-IAM5), by its text.
        resource = self.bucket.node.default_child
        assert isinstance(resource, s3.CfnBucket)
        bucket = self.get_logical_id(resource)
        wildcards = ("Action::s3:Abort*", "Action::s3:DeleteObject*", f"Resource::<{bucket}.Arn>/*")
        for finding in wildcards:
            cdk.Validations.of(self.topology.role("archive")).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]",
                    reason="archive writes one object per click anywhere in its own bucket, "
                    "and may abort its own multipart uploads",
                )
            )
        cdk.Validations.of(self.bucket).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason="an example's archive: no server access logs (a real one would "
                "name its log bucket in server_access_logs_bucket)",
            )
        )


def main() -> None:
    app = cdk.App()
    ClicksStack(app, "Clicks")
    app.synth()


if __name__ == "__main__":
    main()
