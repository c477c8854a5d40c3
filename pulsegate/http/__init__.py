"""HTTP layer: one module per route family, plus CORS, error mapping and body decoding."""
