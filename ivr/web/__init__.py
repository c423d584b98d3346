"""Flask blueprints: Twilio webhooks and JSON APIs (the web pages are in `dashboards/`).

Views verify, parse, call a service, render. Every blueprint, here and in dashboards/, is
registered by name in `ivr.create_app` (`_register_blueprints`), so that one place lists every
route the app serves (issue 13: discovery by scanning hid what the app serves).
"""
