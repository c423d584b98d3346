"""The call-flow language: model, loader, validator, interpreter."""
