"""The API\x27s routers, one module per area."""
