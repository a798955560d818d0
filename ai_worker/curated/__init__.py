"""Curated answers: question → answer pairs from FAQ documents or staff, answered without a model."""
