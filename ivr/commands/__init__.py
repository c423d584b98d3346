"""One module per `ivr` subcommand; each exposes a click object named `command`."""
