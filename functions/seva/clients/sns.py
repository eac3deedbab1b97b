"""SNS: SMS (India DLT attributes), officer email (one topic, a filter policy per officer), SOS topic."""

from __future__ import annotations

import json
from typing import Any


class SnsSender:
    def __init__(self, email_topic_arn: str, sos_topic_arn: str, region: str):
        import boto3

        self.client = boto3.client("sns", region_name=region)
        self.email_topic_arn = email_topic_arn
        self.sos_topic_arn = sos_topic_arn

    def sms(self, phone: str, body: str, template_id: str, entity_id: str, sender_id: str) -> str:
        attributes = {
            "AWS.MM.SMS.EntityId": entity_id,
            "AWS.MM.SMS.TemplateId": template_id,
            "AWS.SNS.SMS.SenderID": sender_id,
            "AWS.SNS.SMS.SMSType": "Transactional",
        }
        out = self.client.publish(PhoneNumber=phone, Message=body, MessageAttributes=_attrs(attributes))
        return str(out["MessageId"])

    def email(self, officer_id: str, subject: str, body: str, attributes: dict[str, str]) -> str:
        out = self.client.publish(
            TopicArn=self.email_topic_arn, Subject=subject[:100], Message=body, MessageAttributes=_attrs(attributes)
        )
        return str(out["MessageId"])

    def sos(self, payload: dict[str, Any]) -> str:
        out = self.client.publish(
            TopicArn=self.sos_topic_arn,
            Message=json.dumps(payload, ensure_ascii=False),
            MessageAttributes=_attrs(
                {"priority": str(payload.get("priority")), "district": str(payload.get("district_code"))}
            ),
        )
        return str(out["MessageId"])

    def subscribe_officer_email(self, officer_id: str, email: str) -> str:
        out = self.client.subscribe(
            TopicArn=self.email_topic_arn,
            Protocol="email",
            Endpoint=email,
            Attributes={"FilterPolicy": json.dumps({"officer_id": [officer_id]})},
            ReturnSubscriptionArn=True,
        )
        return str(out["SubscriptionArn"])


def _attrs(values: dict[str, str]) -> Any:
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}
