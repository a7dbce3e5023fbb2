"""Downstream: train small models on a source's episodes, test them on ground truth, and check whether the
scorecard predicts the outcome (see docs/downstream.md)."""
