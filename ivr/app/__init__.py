"""The composition root: the services a running process holds, built once from the settings
(services.py), the app's flow publisher and convergence, request body limits, the flows-against-
queues check, the development server. Above the features (phone, outcomes, flows, prompts),
below the web, the pages, the workers and the commands (docs/architecture.md).
"""
