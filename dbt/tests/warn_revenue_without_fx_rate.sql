{{ config(severity='warn') }}
-- Revenue in a currency without an FX rate (e.g. BRL) is never summed into `revenue`; it is
-- counted in revenue_events_without_fx_rate. This warning lists the currencies and days concerned:
-- add rates to seeds/fx_rates.csv to include them.
select
    advertiser_id,
    currency as event_currency,
    advertiser_currency,
    min(report_date) as first_report_date,
    max(report_date) as last_report_date,
    count(*) as revenue_events_without_fx_rate
from {{ ref('int_appsprint__revenue_events') }}
where not has_fx_rate
group by advertiser_id, currency, advertiser_currency
