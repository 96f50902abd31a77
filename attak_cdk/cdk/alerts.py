"""``AlertTopic``: where a stack's alarms tell people, from the topology's ``alerts:``.

One SNS topic per stack holding processors (a topology spread over several stacks gets
one in each, so no stack refers to another's resources): every alarm of those processors
notifies it when it goes off and when it is OK again, the addresses given are subscribed
to it (SNS mails each a confirmation first), and each existing topic given is notified
too, as another action of every alarm.

The topic is encrypted with a key of its own: CloudWatch can publish to an encrypted
topic only when the key's policy lets the ``cloudwatch.amazonaws.com`` principal use it,
which an AWS managed key's policy (``alias/aws/sns``) does not
(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from ..model import Alerts

CLOUDWATCH = "cloudwatch.amazonaws.com"


class AlertTopic(Construct):
    """The topic a stack's alarms notify, its key, and who is subscribed.

    ``alerts``: the topology's ``alerts:`` (addresses to subscribe, topics to notify).
    ``topology``: its name, for the topic's display name.
    """

    def __init__(self, scope: Construct, id: str, *, alerts: Alerts, topology: str) -> None:
        super().__init__(scope, id)
        account = Stack.of(self).account
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the alarm notifications of attak topology '{topology}'",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"attak {topology} alarms"[:100],
            master_key=self.key,
            enforce_ssl=True,
        )
        # The alarms of this account only (a service principal acts for any account).
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        for address in alerts.emails:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(address),
            )
        self.actions: list[cloudwatch.IAlarmAction] = [actions.SnsAction(self.topic)]
        for arn in alerts.topics:
            existing = sns.Topic.from_topic_arn(self, f"Existing{_short_hash(arn)}", arn)
            self.actions.append(actions.SnsAction(existing))

    def notify(self, alarms: Iterable[cloudwatch.Alarm]) -> None:
        """Have each of ``alarms`` tell everyone when it goes off and when it is OK
        again: at 2 a.m. a recovery is news too."""
        for alarm in alarms:
            alarm.add_alarm_action(*self.actions)
            alarm.add_ok_action(*self.actions)


def _short_hash(text: str) -> str:
    """Eight hex digits naming ``text`` stably, whatever its place in the list."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]
