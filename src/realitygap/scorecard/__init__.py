"""The scorecard: every source of a dataset against the ground-truth twin, on the axes of DESIGN.md
(predictive quality: precision, consistency, explanative value; predictive efficiency; 3i), with
seeded bootstrap intervals over episodes, written to results.parquet / results.json."""
