class BuildFailed(RuntimeError):
    """A local service could not be built; the message has each attempt's error."""


class MissingTool(RuntimeError):
    """A program the local services need is not installed; the message says how to get it."""


class UnknownBackend(ValueError):
    """TANDEM_STORE_BACKEND names no backend the local FerretDB can use."""
