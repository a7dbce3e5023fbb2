"""Sources: everything realitygap scores predicts an episode from a context (see base.Source)."""
