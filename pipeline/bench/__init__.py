"""`python -m pipeline bench`: the pipeline's speed as ratios against the floor measured in the same run."""
