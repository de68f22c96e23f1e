"""Errors that carry a message a student or teacher can act on."""


class MamlvizError(Exception):
    """Base class: anything the UI or CLI should show as a plain message."""


class ConfigError(MamlvizError, ValueError):
    """An invalid setting. ``field`` names the setting so the UI can point at it."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class CheckpointError(MamlvizError):
    """A checkpoint file that is missing, corrupt, tampered with or of the wrong kind."""


class DataError(MamlvizError):
    """Missing, partial or corrupt data, with what was found and how to fix it."""
