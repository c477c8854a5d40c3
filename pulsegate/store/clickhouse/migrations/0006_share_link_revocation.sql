-- Revoking a share link updates its row (store/shares.revoke_share): ClickHouse's lightweight
-- UPDATE needs the block columns, which api_keys had from the start and share_links lacked.
ALTER TABLE share_links {on_cluster} MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
