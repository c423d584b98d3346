"""Web pages: wallboard, admin and agent console."""
