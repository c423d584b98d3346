"""Adapters for state: Redis (calls, queues, agents) and the database (outcomes)."""
