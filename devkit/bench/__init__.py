"""One module per `ivr bench` subcommand; each exposes a click object named `command`."""
