"""Wiring and settings: configuration, the services a running app holds, metrics, logs, operator
switches, the queue configuration.
"""
