"""Clients of external services: the only package that imports tweepy (and wraps boto3 use)."""
