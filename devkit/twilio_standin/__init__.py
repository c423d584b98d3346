"""A Twilio simulator for development and tests: it plays Twilio against the product.

* `signing`: X-Twilio-Signature, computed as Twilio computes it.
* `transport`: how webhooks reach the app (real HTTP, or a Flask test client in-process).
* `script`: the caller's scripted inputs (`press 1; say "order status"; hold 3`).
* `leg`, `verbs`, `queue_wait`: the CallLeg engine that executes TwiML verb by verb.
* `conference`, `conference_leg`, `conference_rest`: conference rooms (<Dial><Conference>), what
  a leg hears in one (wait music, hold music, announcements, coaching), their status callbacks
  and the Conference / Participant REST resources.
* `outbound`, `call_progress`, `client_devices`: Calls.json legs ringing numbers or simulated
  Twilio Client devices (driven over /sim/clients), with progress status callbacks; a
  device's outgoing calls through the TwiML App.
* `call_recordings`: REST-started call recordings (dual channel, pause, resume, stop).
* `callbacks`: the ordered, asynchronous sender of conference and recording callbacks.
* `transcript`: what happened on a call, printable.
* `standin`, `standin_state`, `rest_json`: the local stand-in for Twilio's REST API.
* `client`: `make_rest_client()`, a real `twilio.rest.Client` pointed at the stand-in.

This package is a test and development tool: the product must never import it except through
`client.make_rest_client` (when no Twilio credentials are configured). It imports nothing from
the rest of `ivr`.
"""
