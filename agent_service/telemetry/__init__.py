"""Metrics and traces of the agent service; failures here never fail a request."""
