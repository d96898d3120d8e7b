"""Small named exceptions raised by library code; the CLI and HTTP layers translate them."""


class TaggerError(Exception):
    """Base class for every error this project raises on purpose."""


class DataError(TaggerError):
    """Training or evaluation data is unusable; the message names the row and the fix."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class TaxonomyError(TaggerError):
    """The taxonomy file is missing or malformed."""


class ModelError(TaggerError):
    """A model artifact is missing, corrupt, or was built with incompatible libraries."""


class ModelNotFound(ModelError):
    """No model version by that name."""


class ReadOnlyModelsDir(TaggerError):
    """Training would write into the installed package's shipped models; the message says where instead."""
