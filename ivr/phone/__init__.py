"""The call on the phone: the call service, queue hand-off, hold loop, bridging, callback legs,
TwiML and Twilio signatures.
"""
