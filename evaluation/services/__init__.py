"""Writes: every state change of Earshot goes through a function here (HackSoft style)."""


class ServiceError(ValueError):
    """A request the service refuses; `code` is machine-readable, the message is for people."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        if code:
            self.code = code
        if status:
            self.status = status

    @property
    def message(self) -> str:
        return str(self)
