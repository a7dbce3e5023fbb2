"""The carbon-copy effect: generators trained on generated data, generation after generation."""
