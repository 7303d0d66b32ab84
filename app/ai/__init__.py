"""Model calls: drafts and summaries from an OpenAI-compatible chat-completions endpoint,
streamed to the agent who asked, each metered in the workspace's ledger."""
