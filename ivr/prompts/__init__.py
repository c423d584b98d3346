"""The prompt catalogue and its audio: catalogue loading, WAV building, editing from the admin
pages, hold music.
"""
