"""Operations shared by the CLI and the running server (config init, keys, exports, storage)."""
