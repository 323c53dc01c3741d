"""Errors raised by the case lifecycle."""
from workflows.i18n import N_


class TransitionError(Exception):
    """A trigger the case's state does not allow, or whose guard failed; nothing was changed."""

    template = N_("Cannot do “%(trigger)s” on a case in state “%(state)s”: %(detail)s")

    def __init__(self, state, trigger, condition, message, params=None):
        self.state = state
        self.trigger = trigger
        self.condition = condition
        self.message = message
        self.params = dict(params or {})
        super().__init__(state, trigger, condition, message, self.params)  # args match: picklable

    def render(self, translate=N_, state_label=None, trigger_label=None) -> str:
        """The full message; pass gettext and translated labels to get it in the user's language."""
        detail = translate(self.message) % self.params
        return translate(self.template) % {
            "trigger": trigger_label or self.trigger,
            "state": state_label or self.state,
            "detail": detail,
        }

    def __str__(self) -> str:
        return self.render()
