"""What a call leaves behind: retention, follow-up rules, SMS surveys, the webhook spool,
recordings' media rule, outgoing numbers.
"""
