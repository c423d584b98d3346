"""A Twilio simulator for development and tests: it plays Twilio against the product.

* `signing`: X-Twilio-Signature, computed as Twilio computes it.
* `transport`: how webhooks reach the app (real HTTP, or a Flask test client in-process).
* `script`: the caller's scripted inputs (`press 1; say "order status"; hold 3`).
* `leg`, `verbs`, `queue_wait`: the CallLeg engine that executes TwiML verb by verb.
* `transcript`: what happened on a call, printable.
* `standin`, `standin_state`, `rest_json`: the local stand-in for Twilio's REST API.
* `client`: `make_rest_client()`, a real `twilio.rest.Client` pointed at the stand-in.

This package is a test and development tool: the product must never import it except through
`client.make_rest_client` (when no Twilio credentials are configured). It imports nothing from
the rest of `ivr`.
"""
