"""Pure logic with no I/O: payload shapes, visitor ids, session state."""
