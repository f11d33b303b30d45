"""One article to events: event types, candidates, answer schemas, prompts, the flow, grounding,
normalization and the drivers that answer its requests. Private."""
