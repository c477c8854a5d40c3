-- The rest of DuckDB's tables (store/migrations, as of its 0017), with the same columns, so the
-- store's modules read and write them alike (store/clickhouse/cursor.py). The small tables that
-- change take ClickHouse's lightweight UPDATE and DELETE (block number and offset columns).
-- The event rollup's tables exist so the report SQL that names them runs; on ClickHouse they stay
-- empty and reports read raw events (rollup_state's frontier stays NULL).

CREATE TABLE IF NOT EXISTS goals {on_cluster} (
    name        String,
    kind        String,
    project     Nullable(String),
    event       Nullable(String),
    prop_key    Nullable(String),
    prop_value  Nullable(String),
    page        Nullable(String),
    form        Nullable(String),
    created_at  DateTime64(3),
    declared_in String DEFAULT 'cli'
) ENGINE = {replicated}MergeTree ORDER BY name
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS funnels {on_cluster} (
    name       String,
    steps      String,
    within     String,
    window_ms  Nullable(Int64),
    project    Nullable(String),
    created_at DateTime64(3)
) ENGINE = {replicated}MergeTree ORDER BY name
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS leads {on_cluster} (
    lead_id        String,
    submission_id  String,
    created_at     DateTime64(3),
    project        Nullable(String),
    source         Nullable(String),
    session_id     Nullable(String),
    visitor_id     Nullable(String),
    traffic_source Nullable(String),
    name           Nullable(String),
    email          Nullable(String),
    phone          Nullable(String),
    company        Nullable(String),
    message        Nullable(String),
    fields         Nullable(String),
    page_url       Nullable(String),
    utm_source     Nullable(String),
    utm_medium     Nullable(String),
    utm_campaign   Nullable(String),
    utm_term       Nullable(String),
    utm_content    Nullable(String),
    is_spam        Bool DEFAULT false,
    status         String DEFAULT 'new',
    crm_lead_id    Nullable(String),
    crm_synced_at  Nullable(DateTime64(3)),
    spam_reason    Nullable(String),
    content_key    Nullable(String),
    stage          Nullable(String),
    stage_value    Nullable(Float64),
    stage_currency Nullable(String),
    stage_at       Nullable(DateTime64(3))
) ENGINE = {replicated}MergeTree ORDER BY (created_at, lead_id)
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS lead_stages {on_cluster} (
    lead_id     String,
    stage       String,
    value       Nullable(Float64),
    currency    Nullable(String),
    happened_at DateTime64(3),
    received_at DateTime64(3)
) ENGINE = {replicated}MergeTree ORDER BY (lead_id, happened_at);

CREATE TABLE IF NOT EXISTS lead_attribution {on_cluster} (
    lead_id                 String,
    touches                 Int32,
    touch_list              Array(Tuple(
        touched_at DateTime64(3), session_id Nullable(String), source Nullable(String),
        referrer_host Nullable(String), utm_source Nullable(String), utm_medium Nullable(String),
        utm_campaign Nullable(String), utm_term Nullable(String), utm_content Nullable(String),
        landing_page Nullable(String), click_ids Nullable(String), country Nullable(String),
        device Nullable(String))),
    first_touch             Int32,
    last_touch              Int32,
    time_to_convert_ms      Int64,
    converting_landing_page Nullable(String),
    converting_page_views   Nullable(Int32),
    converting_engaged_ms   Nullable(Int64),
    converting_score        Nullable(Int32),
    from_hosting            Nullable(Bool)
) ENGINE = {replicated}MergeTree ORDER BY lead_id
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS deliveries {on_cluster} (
    delivery_id     String,
    subject_id      String,
    target          String,
    payload         String,
    status          String,
    attempts        Int32 DEFAULT 0,
    next_attempt_at DateTime64(3),
    last_attempt_at Nullable(DateTime64(3)),
    last_status     Nullable(Int32),
    last_error      Nullable(String),
    created_at      DateTime64(3),
    delivered_at    Nullable(DateTime64(3))
) ENGINE = {replicated}MergeTree ORDER BY delivery_id
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS imports {on_cluster} (
    id          Int32,
    project     String,
    origin      String,
    label       String,
    status      String,
    first_day   Nullable(Date32),
    last_day    Nullable(Date32),
    timezone    String,
    row_count   Int64 DEFAULT 0,
    state       Nullable(String),
    created_at  DateTime64(3),
    finished_at Nullable(DateTime64(3))
) ENGINE = {replicated}MergeTree ORDER BY id
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS imported_daily {on_cluster} (
    import_id Int32, project String, kind String, day Date32,
    source Nullable(String), referrer Nullable(String), utm_source Nullable(String),
    utm_medium Nullable(String), utm_campaign Nullable(String), utm_term Nullable(String),
    utm_content Nullable(String), page Nullable(String), hostname Nullable(String),
    entry_page Nullable(String), exit_page Nullable(String), event Nullable(String),
    outbound Nullable(String), download Nullable(String), country Nullable(String),
    region Nullable(String), device Nullable(String), browser Nullable(String),
    browser_version Nullable(String), os Nullable(String), os_version Nullable(String),
    visitors Int64 DEFAULT 0, visits Int64 DEFAULT 0, pageviews Int64 DEFAULT 0,
    bounces Int64 DEFAULT 0, visit_duration Int64 DEFAULT 0, events Int64 DEFAULT 0,
    time_on_page Int64 DEFAULT 0, time_on_page_visits Int64 DEFAULT 0
) ENGINE = {replicated}MergeTree ORDER BY (import_id, kind, day)
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS imported_sessions {on_cluster} (
    import_id  Int32,
    session_id String
) ENGINE = {replicated}MergeTree ORDER BY session_id
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS email_reports {on_cluster} (
    name        String,
    project     Nullable(String),
    recipients  Array(String),
    every       String,
    day         Int32,
    hour        Int32,
    tz          String,
    model       String,
    from_config Bool DEFAULT false,
    created_at  DateTime64(3)
) ENGINE = {replicated}MergeTree ORDER BY name
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS email_report_sends {on_cluster} (
    name            String,
    period_start    DateTime64(3),
    period_end      DateTime64(3),
    status          String,
    attempts        Int32,
    next_attempt_at Nullable(DateTime64(3)),
    last_error      Nullable(String),
    sent_at         Nullable(DateTime64(3)),
    message_id      String
) ENGINE = {replicated}MergeTree ORDER BY (name, period_start)
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS share_links {on_cluster} (
    share_id      String,
    name          String,
    project       String,
    token_hash    String,
    password_hash Nullable(String),
    embed_origins Array(String),
    created_at    DateTime64(3),
    expires_at    Nullable(DateTime64(3)),
    revoked_at    Nullable(DateTime64(3))
) ENGINE = {replicated}MergeTree ORDER BY share_id
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS rollup_state {on_cluster} (
    since      Nullable(DateTime64(3)),
    frontier   Nullable(DateTime64(3)),
    hash_probe Nullable(UInt64)
) ENGINE = {replicated}MergeTree ORDER BY tuple();

CREATE TABLE IF NOT EXISTS page_facts {on_cluster} (
    hour DateTime64(3), project Nullable(String), path String, session_key UInt64, visitor_key UInt64, views Int32
) ENGINE = {replicated}MergeTree ORDER BY (hour, path);

CREATE TABLE IF NOT EXISTS engaged_facts {on_cluster} (
    hour DateTime64(3), project Nullable(String), path String, session_key UInt64, engaged_ms Int64
) ENGINE = {replicated}MergeTree ORDER BY (hour, path);

CREATE TABLE IF NOT EXISTS event_facts {on_cluster} (
    hour DateTime64(3), project Nullable(String), kind String, key Nullable(String), value String,
    session_key UInt64, visitor_key UInt64, hits Int32, event Nullable(String)
) ENGINE = {replicated}MergeTree ORDER BY (hour, kind, value);

CREATE TABLE IF NOT EXISTS form_facts {on_cluster} (
    hour DateTime64(3), project Nullable(String), kind String, form Nullable(String), session_key UInt64, hits Int32
) ENGINE = {replicated}MergeTree ORDER BY (hour, kind);

CREATE TABLE IF NOT EXISTS moment_facts {on_cluster} (
    hour DateTime64(3), project Nullable(String), kind String, value String, session_key UInt64,
    visitor_key UInt64, moment Int64
) ENGINE = {replicated}MergeTree ORDER BY (hour, kind, value);

CREATE TABLE IF NOT EXISTS goal_facts {on_cluster} (
    hour DateTime64(3), rule String, project Nullable(String), session_key UInt64, visitor_key UInt64, hits Int32
) ENGINE = {replicated}MergeTree ORDER BY (hour, rule);

CREATE TABLE IF NOT EXISTS goal_rules {on_cluster} (
    rule String
) ENGINE = {replicated}MergeTree ORDER BY rule
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1
