"""Seva: citizens' tweets to the UP police become tracked, routed, answered complaints.

Layout (handlers / logic / data access):
- ``settings``     typed per-function settings, read at invoke time
- ``registry``     the handle registry (data file), ``querypack`` packs it into search queries
- ``tweets``       pure helpers over X API v2 payloads
- ``polling``      the poll cycle (pure orchestration over ports)
- ``dal``          the only code that touches PynamoDB
- ``clients``      the only code that touches tweepy / boto3
"""
