"""AWS's limits on what attak derives from a topology, and what attak's derivations weigh.

``attak validate`` reports a topology that would pass one of these limits on AWS (moto,
like most emulators, enforces none of them); the synthesis tests check the stacks against
the same numbers.

Guaranteed by construction, whatever the topology (the tests check each on the longest
names the validator allows):

- stream names: at most 128 characters of ``[A-Za-z0-9_.-]`` (``graph.physical_stream_name``);
- logical ids and output names: at most 255 characters (``graph.logical_id``, or the
  CDK's hashed ids, which it keeps to 255), and so are the export names the CDK makes;
- function, role, queue, log group, alarm and dashboard names: attak names none of them,
  and CloudFormation generates each within its type's limit (64 characters for a function);
- a function's description: ``attak processor '<64>' of topology '<128>'`` fits 256.

A topology can still pass (``validate.aws_limits`` reports them):

- a function's environment, 4 KB: the user's ``environment:`` plus attak's variables
  (``attak_variables``), which grow with the handler's module and function names;
- a stack name, 128 characters, once a topology too large for one stack is split into
  ``<name>-streams-N`` and ``<name>-N`` stacks;
- the concurrency its processors reserve (``reserved_concurrency``), which on an account
  at Lambda's default quota must leave 100 executions unreserved (a warning: the quota
  can be raised).
"""

from __future__ import annotations

from . import graph
from .model import Processor, Topology
from .references import payloads
from .runtime import config

# "Function environment variables: 4 KB, for all environment variables associated with
# the function, in aggregate"; counted as the bytes of every key and value.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_ENVIRONMENT_BYTES = 4096
"""The most a function's environment may hold, keys and values together."""
# "Concurrent executions: 1,000" by default per account and region (it can be raised),
# and Lambda keeps 100 of them unreserved: "you can reserve up to the Unreserved account
# concurrency value minus 100".
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
DEFAULT_ACCOUNT_CONCURRENCY = 1000
UNRESERVED_CONCURRENCY = 100
MAX_RESERVED_CONCURRENCY = DEFAULT_ACCOUNT_CONCURRENCY - UNRESERVED_CONCURRENCY
"""The most a topology's functions can reserve together on an account at the default
quota (and with nothing else reserved in it)."""
# Stack name: 128 characters; output name (logical id): 255.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
MAX_STACK_NAME = 128
MAX_OUTPUT_NAME = 255
# FunctionName: 1 to 64 characters (a bare name; CloudFormation keeps a generated one within).
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
MAX_FUNCTION_NAME = 64
MAX_STREAM_NAME = graph.MAX_STREAM_NAME
# A queue URL is https://sqs.<region>.<domain>/<12-digit account>/<queue name>, the name
# at most 80 characters (CreateQueue's QueueName):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
# "https://sqs." (12) + a region (20, with room) + ".amazonaws.com.cn/" (18) + 12 + "/" + 80.
QUEUE_URL_BOUND = 143
"""The longest dead-letter queue URL the environment may have to hold (known at deploy)."""


def attak_variables(topology: Topology, processor: Processor) -> dict[str, str]:
    """The variables attak adds to a processor's function (``config.environment``, as
    ``cdk/processor.py`` sets them), with the dead-letter queue's URL (known only at
    deploy) as long as it can be."""
    return config.environment(
        handler=graph.handler_module(processor),
        processor=processor.name,
        topology=topology.name,
        max_hops=topology.max_hops,
        dead_letters="q" * QUEUE_URL_BOUND,
        trace_sampling=topology.trace_sampling,
        references=payloads(processor.references),
    )


def environment_bytes(variables: dict[str, str]) -> int:
    """What Lambda counts of an environment against its 4 KB: every key and value, UTF-8."""
    return sum(len(key.encode()) + len(value.encode()) for key, value in variables.items())
