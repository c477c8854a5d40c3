"""Services used by the HTTP layer: they take and return msgspec Structs, never a Request."""
