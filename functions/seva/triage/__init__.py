"""Triage: pure logic that decides complaint/noise, district, category and priority for a tweet."""

from seva.triage.classifier import CATEGORIES, Triage, Triager, classify, default_triager

__all__ = ["CATEGORIES", "Triage", "Triager", "classify", "default_triager"]
