"""A processor's ``schedule:`` as an EventBridge rule invoking its function.

The rule's target is the function, with the permission to invoke it limited to this rule
(its ARN as the source ARN) and the event as the target's input, in attak's envelope
(``{"v": 1, "data": ...}``), so the runtime hands the handler the event itself and never
EventBridge's envelope: the constant event, or ``{"time", "schedule"}`` filled in by
EventBridge from its own event's ``time`` (an input transformer). A scheduled invocation
is never dropped silently: EventBridge retries delivering it (its retry policy), then puts
it in the processor's dead-letter queue ("Event retry policy and using dead-letter
queues": https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-event-delivery.html);
once delivered, Lambda invokes the function asynchronously, and a handler error takes the
function's own asynchronous retries and on-failure destination, the same queue
(``ProcessorFunction``).
"""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import graph
from ..schedules import Schedule, describe, event_with_time
from . import values

DELIVERY_RETRIES = 185
"""EventBridge's attempts to deliver a scheduled event (its most, and its default)."""
DELIVERY_HOURS = 24
"""Hours EventBridge keeps trying (its most, and its default) before the dead-letter queue:
a scheduled run a day late is still run, or kept where ``attak dead-letters`` shows it."""


def scheduled_rule(
    scope: Construct,
    schedule: Schedule,
    function: lambda_.IFunction,
    dead_letters: sqs.IQueue,
    processor: str,
) -> events.Rule:
    """The rule invoking ``function`` on ``schedule``, failed deliveries to ``dead_letters``."""
    data: object
    if schedule.has_event:
        data = schedule.event
    else:
        data = event_with_time(schedule.expression, events.EventField.time)
    return events.Rule(
        scope,
        graph.SCHEDULE,
        schedule=events.Schedule.expression(schedule.expression),
        description=f"attak: invokes processor '{processor}' {describe(schedule.expression)}",
        targets=[
            targets.LambdaFunction(
                function,
                event=events.RuleTargetInput.from_object({"v": 1, "data": data}),
                dead_letter_queue=dead_letters,
                retry_attempts=DELIVERY_RETRIES,
                max_event_age=values.hours(DELIVERY_HOURS),
            )
        ],
    )
