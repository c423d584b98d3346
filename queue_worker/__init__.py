"""RQ jobs: routing, callbacks, transcription, follow-up."""
