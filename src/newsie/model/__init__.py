"""Talking to a model: the backend objects (embedded llama.cpp, any OpenAI-compatible
server), retries, error translation, repair, usage and the answer cache. Private."""
