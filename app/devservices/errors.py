class MissingTool(RuntimeError):
    """A program the local services need is not installed; the message says how to get it."""
