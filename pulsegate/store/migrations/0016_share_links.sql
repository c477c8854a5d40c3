-- Share links (`pulsegate share create`): a read-only dashboard of one project at /share/<token>.
--
-- The token is 256 random bits shown once; only its SHA-256 is kept, as for API keys. A password,
-- when the link has one, is kept as a scrypt hash with its salt and cost (domain/shares.py says
-- why scrypt). A revoked link keeps its row, so `share list` can say when.

CREATE TABLE share_links (
    share_id       VARCHAR PRIMARY KEY,     -- public, short; shown in `pulsegate share list`
    name           VARCHAR NOT NULL,        -- the owner's label, may be empty
    project        VARCHAR NOT NULL,        -- the one project the link shows
    token_hash     VARCHAR NOT NULL UNIQUE, -- sha256 hex of the token; the token is never stored
    password_hash  VARCHAR,                 -- scrypt$N$r$p$salt$key, or NULL for no password
    embed_origins  VARCHAR[] NOT NULL,      -- frame-ancestors of ?embed=1; empty: no framing
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP,               -- NULL: never
    revoked_at     TIMESTAMP
);
