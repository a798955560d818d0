"""Pure ASGI middleware of the gateway (pure ASGI so streaming responses pass through untouched)."""
