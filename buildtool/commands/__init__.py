"""One module per CLI command: ``HELP``-less, ``configure(parser)`` and ``run(args)``."""
