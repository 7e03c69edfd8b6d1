"""Karpenter's interruption queue: an SQS queue fed by EventBridge rules for the events that
end or threaten an instance, so Karpenter drains nodes before EC2 takes them away.

As in Karpenter's reference template: 300 s message retention, SQS-managed encryption, a queue
policy that lets EventBridge and SQS send and denies any request without TLS, and five rules
(AWS Health scheduled changes, Spot interruption warnings, rebalance recommendations, instance
state changes, capacity reservation interruption warnings). Substrate additionally restricts
EventBridge's permission to this queue's own rules (`aws:SourceArn`), so no other account's
rule can inject interruption events.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NotRequired, Required, TypedDict

import pulumi
import pulumi_aws as aws

from substrate.components.core._args import check_args
from substrate.components.core.iam import to_json

RETENTION_SECONDS = 300


@dataclass(frozen=True)
class InterruptionEvent:
    suffix: str
    source: str
    detail_type: str

    @property
    def pattern(self) -> str:
        return json.dumps(
            {"detail-type": [self.detail_type], "source": [self.source]}, sort_keys=True
        )


EVENTS: tuple[InterruptionEvent, ...] = (
    InterruptionEvent("health", "aws.health", "AWS Health Event"),
    InterruptionEvent("spot", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    InterruptionEvent("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    InterruptionEvent("state-change", "aws.ec2", "EC2 Instance State-change Notification"),
    InterruptionEvent(
        "reservation", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"
    ),
)


def queue_policy(queue_arn: str, rule_arns: Sequence[str]) -> str:
    return to_json(
        [
            {
                "Sid": "AllowEventBridgeRules",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
            },
            {
                "Sid": "AllowSqs",
                "Effect": "Allow",
                "Principal": {"Service": "sqs.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Sid": "DenyHTTP",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


class InterruptionQueueArgs(TypedDict, total=False):
    queue_name: Required[str]
    """SQS queue name, prefix of the rule names and Karpenter's settings.interruptionQueue."""
    tags: NotRequired[Mapping[str, str]]
    """Tags for the queue and the rules."""


class InterruptionQueue(pulumi.ComponentResource):
    queue_name: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    queue_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: InterruptionQueueArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(self, args)
        super().__init__("substrate:capacity:InterruptionQueue", name, None, opts)
        queue_name = args["queue_name"]
        longest = max(len(e.suffix) for e in EVENTS)
        if not 1 <= len(queue_name) <= 64 - longest - 1 or not all(
            c.isalnum() or c in "-_" for c in queue_name
        ):
            raise ValueError(
                f"InterruptionQueueArgs.queue_name: {queue_name!r} must be 1-{64 - longest - 1} "
                "letters, digits, '-' or '_' (rule names add a suffix and are capped at 64)"
            )
        tags = dict(args.get("tags", {}))
        child = pulumi.ResourceOptions(parent=self)
        queue = aws.sqs.Queue(
            f"{name}-queue",
            name=queue_name,
            message_retention_seconds=RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=tags,
            opts=child,
        )
        rules = []
        for event in EVENTS:
            rule_name = f"{queue_name}-{event.suffix}"
            rule = aws.cloudwatch.EventRule(
                f"{name}-{event.suffix}",
                name=rule_name,
                description=f"Karpenter interruption handling: {event.detail_type}",
                event_pattern=event.pattern,
                tags=tags,
                opts=child,
            )
            # The literal rule name (not rule.name) keeps the target readable at preview.
            aws.cloudwatch.EventTarget(
                f"{name}-{event.suffix}-target",
                rule=rule_name,
                target_id="KarpenterInterruptionQueueTarget",
                arn=queue.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[rule]),
            )
            rules.append(rule)
        aws.sqs.QueuePolicy(
            f"{name}-policy",
            queue_url=queue.url,
            policy=pulumi.Output.all(queue.arn, *[r.arn for r in rules]).apply(
                lambda v: queue_policy(v[0], v[1:])
            ),
            opts=child,
        )
        self.queue_name = queue.name
        self.queue_arn = queue.arn
        self.queue_url = queue.url
        self.register_outputs(
            {"queueName": queue.name, "queueArn": queue.arn, "queueUrl": queue.url}
        )
