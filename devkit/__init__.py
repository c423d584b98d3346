"""Developer tooling, never imported by the production server: the Twilio stand-in, benchmarks and
the load generator.
"""
