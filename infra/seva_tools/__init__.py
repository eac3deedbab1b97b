"""Seva's deployable tooling: what the infra team runs against a real AWS account (boto3 only; the local cloud
reaches it through AWS_ENDPOINT_URL). The local cloud (sevalocal) may import it, never the other way round."""
