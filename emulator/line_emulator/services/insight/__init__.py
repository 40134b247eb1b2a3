"""Sent-message counts, aggregation units and the Insight API's statistics."""
