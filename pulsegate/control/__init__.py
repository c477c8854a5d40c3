"""The control socket: the CLI runs operations inside the server that holds the database."""
