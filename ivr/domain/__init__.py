"""The pure core: no I/O, no clock, no frameworks (see README.md)."""
