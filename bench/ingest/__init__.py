"""The inbound benchmark: channel webhooks posted concurrently, each message stored and pushed
to live agent sockets."""
