"""The HTTP API: create_app(settings), error mapping, routes."""
