"""Prompts as context: sentence embeddings and prompt -> (scenario, parameters) parsing."""
