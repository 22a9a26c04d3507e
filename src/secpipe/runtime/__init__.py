"""Runtime: the transform chain and the pipeline that ties decode -> stages -> lake/DLQ."""
