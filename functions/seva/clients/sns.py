"""SNS: SMS (India DLT attributes), officer email (one topic; each mailbox's subscription filters on district, officer
id and mailbox: managed by seva_tools.officers), SOS topic.

A publish that fails after the SDK's own retries raises ``SendFailed``: final when SNS refuses the recipient
or the request (it would fail again), retryable otherwise (throttling, 5xx, timeouts)."""

from __future__ import annotations

import json
from typing import Any

from seva.notify import SendFailed
from seva.officers import Officer

_FINAL = frozenset(
    {"InvalidParameter", "InvalidParameterValue", "ParameterValueInvalid", "OptedOut", "EndpointDisabled"}
)


class SnsSender:
    def __init__(self, email_topic_arn: str, sos_topic_arn: str, region: str):
        import boto3
        from botocore.config import Config

        # Standard retry mode: exponential backoff with jitter on throttling and 5xx, 3 attempts. The SDK's
        # default timeouts stay: a publish given up on may yet be accepted (an SMS sent twice), so a slow answer
        # is waited for; the notifier starts a delivery only with time for it (seva.notify.Notifier)
        self.client = boto3.client(
            "sns", region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 3})
        )
        self.email_topic_arn = email_topic_arn
        self.sos_topic_arn = sos_topic_arn

    def _publish(self, **kwargs: Any) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str(self.client.publish(**kwargs)["MessageId"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise SendFailed(f"SNS {code}", final=code in _FINAL) from exc
        except BotoCoreError as exc:  # connection errors, timeouts
            raise SendFailed(f"SNS {type(exc).__name__}") from exc

    def sms(self, phone: str, body: str, template_id: str, entity_id: str, sender_id: str) -> str:
        attributes = {
            "AWS.MM.SMS.EntityId": entity_id,
            "AWS.MM.SMS.TemplateId": template_id,
            "AWS.SNS.SMS.SenderID": sender_id,
            "AWS.SNS.SMS.SMSType": "Transactional",
        }
        return self._publish(PhoneNumber=phone, Message=body, MessageAttributes=_attrs(attributes))

    def email(self, officer: Officer, subject: str, body: str, attributes: dict[str, str]) -> str:
        return self._publish(
            TopicArn=self.email_topic_arn, Subject=subject[:100], Message=body, MessageAttributes=_attrs(attributes)
        )

    def sos(self, payload: dict[str, Any]) -> str:
        return self._publish(
            TopicArn=self.sos_topic_arn,
            Message=json.dumps(payload, ensure_ascii=False),
            MessageAttributes=_attrs(
                {"priority": str(payload.get("priority")), "district": str(payload.get("district_code"))}
            ),
        )


def _attrs(values: dict[str, str]) -> Any:
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}
