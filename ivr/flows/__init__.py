"""Call flows as files: the registry the webhooks read, publishing drafts, test calls, graphs, the
lookup node's data sources.
"""
