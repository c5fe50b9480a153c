"""Models that work together: the capability map, routing by task, plan mode and draft-then-refine."""
