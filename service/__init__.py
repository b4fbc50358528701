"""copydesk's stateful side: the Redis index, the HTTP API, the CLI and jobs."""
