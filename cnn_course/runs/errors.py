"""The runs' one error type: a run folder, logs folder or argument that cannot be used as
asked. Every message says what was wrong and what to do."""


class RunError(ValueError):
    """A run folder cannot be used as asked; the message says why and what to do."""


class RunLockedError(RunError):
    """Another live process holds the run."""
