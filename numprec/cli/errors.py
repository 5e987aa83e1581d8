"""The error a command raises for a problem the user can fix (reported in one line, exit 2)."""


class CommandError(Exception):
    pass
