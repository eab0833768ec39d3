{#- The TikTok report metric columns present in the raw ad_daily_report (every numeric column that
    is not a key or attribute), or in `relation` (the staging view, for the models that read it:
    they then see exactly the columns the view has, which the scheduled syncs do not rebuild). The
    report metric list is configurable in the extractor (dlt_sources/tiktok_ads/settings.py), so
    the models read it from the table instead of a list in code; which metric answers for which
    TikTok event is the seed tiktok_event_report_metrics. -#}
{% macro tiktok_report_metric_columns(relation=none) -%}
    {%- set excluded = ['advertiser_id', 'ad_id', 'stat_date', 'report_date', 'campaign_id', 'adgroup_id',
                        'campaign_name', 'adgroup_name', 'ad_name', 'report_timezone', 'currency', 'synced_at',
                        '_dlt_load_id', 'dlt_load_id', '_dlt_id'] -%}
    {%- set metrics = [] -%}
    {%- if execute -%}
        {%- set relation = relation if relation is not none else source('tiktok_ads', 'ad_daily_report') -%}
        {%- for col in adapter.get_columns_in_relation(relation) -%}
            {%- set name = col.name | lower -%}
            {%- set dtype = col.dtype | lower -%}
            {%- set is_integer = col.is_integer() or dtype.split('(')[0] in ('integer', 'int', 'bigint', 'smallint', 'hugeint', 'int4', 'int8', 'int2') -%}
            {%- set is_number = is_integer or col.is_numeric() or col.is_float()
                   or dtype.split('(')[0] in ('decimal', 'numeric', 'double', 'double precision', 'float', 'real') -%}
            {%- if name not in excluded and is_number -%}
                {%- do metrics.append({'name': name, 'integer': is_integer}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(metrics) }}
{%- endmacro %}
