{#- Small cross-database helpers (docs/decisions/0009-portability.md). Default implementations are
    ANSI/PostgreSQL; DuckDB overrides only where its syntax differs. -#}

{#- The advertiser-local calendar date of a UTC instant (docs/decisions/0001-day-boundary.md). `tz`
    is an IANA name expression (a column or a quoted literal). -#}
{% macro local_date(ts, tz) -%}
    {{ return(adapter.dispatch('local_date', 'signal_campaigns')(ts, tz)) }}
{%- endmacro %}
{% macro default__local_date(ts, tz) -%}
    cast(({{ ts }}) at time zone ({{ tz }}) as date)
{%- endmacro %}
{#- Spark's timestamp is an instant shown in the session time zone (UTC, spark_settings()):
    from_utc_timestamp gives the wall-clock time in `tz`. -#}
{% macro spark__local_date(ts, tz) -%}
    cast(from_utc_timestamp({{ ts }}, {{ tz }}) as date)
{%- endmacro %}

{#- Instant -> unix seconds (bigint, floor). -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'signal_campaigns')(ts)) }}
{%- endmacro %}
{% macro default__epoch_seconds(ts) -%}
    cast(floor(extract(epoch from {{ ts }})) as bigint)
{%- endmacro %}
{% macro spark__epoch_seconds(ts) -%}
    unix_seconds({{ ts }})
{%- endmacro %}

{#- POSIX regular-expression match, true/false (null when the input is null). -#}
{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'signal_campaigns')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_matches(expr, pattern) -%}
    ({{ expr }} ~ '{{ pattern }}')
{%- endmacro %}
{% macro duckdb__regex_matches(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}
{#- Spark: Java regular expressions (rlike finds a match anywhere: the patterns here are anchored);
    Spark's string literals take backslash escapes, so each backslash is doubled. -#}
{% macro spark__regex_matches(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern | replace('\\', '\\\\') }}')
{%- endmacro %}

{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'signal_campaigns')()) }}
{%- endmacro %}
{% macro default__type_double() -%}
    double precision
{%- endmacro %}
{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- Money: decimal, never float (docs/decisions/0004-metric-formulas.md). -#}
{% macro type_money() -%}
    decimal(18, 6)
{%- endmacro %}

{#- An instant literal or expression as timestamp with time zone. -#}
{% macro as_timestamptz(value) -%}
    {{ return(adapter.dispatch('as_timestamptz', 'signal_campaigns')(value)) }}
{%- endmacro %}
{% macro default__as_timestamptz(value) -%}
    cast({{ value }} as timestamp with time zone)
{%- endmacro %}
{#- Spark's timestamp (TIMESTAMP_LTZ) is already an instant. -#}
{% macro spark__as_timestamptz(value) -%}
    cast({{ value }} as timestamp)
{%- endmacro %}

{#- "now" for forwarding decisions: the `forwarding_now` var (the sandbox clock in tests), else
    the database's current_timestamp when the query runs. -#}
{% macro forwarding_now() -%}
    {%- set now = var('forwarding_now', none) -%}
    {%- if now is none or now == '' -%}
        current_timestamp
    {%- else -%}
        {{ as_timestamptz("'" ~ now ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- Subtract whole days from a date, giving a date. -#}
{% macro date_minus_days(date_expr, days) -%}
    cast({{ dbt.dateadd('day', '-1 * (' ~ days ~ ')', date_expr) }} as date)
{%- endmacro %}

{#- True when `ip` is not a routable client address: IPv4 private (10/8, 172.16/12, 192.168/16),
    loopback (127/8), link-local (169.254/16), "this network" (0/8), CGNAT (100.64/10), the same
    in IPv4-mapped IPv6 form (::ffff:a.b.c.d), and IPv6 loopback/unspecified (::1, ::),
    unique-local (fc00::/7) and link-local (fe80::/10). ONE anchored regular expression on the
    lower-cased address: portable (RE2 on DuckDB, POSIX on PostgreSQL) and evaluated once per row
    (a chain of LIKEs on a normalised copy re-evaluated the normalisation per test: 3x slower on
    millions of rows). -#}
{% macro is_private_ip(ip) -%}
    {{ regex_matches('lower(' ~ ip ~ ')',
        '^((::ffff:)?((10|127|0)\\.|192\\.168\\.|169\\.254\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|100\\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\\.).*'
        ~ '|::1|::|0:0:0:0:0:0:0:[01]|localhost|f[cd].*:.*|fe[89ab].*:.*)$') }}
{%- endmacro %}
