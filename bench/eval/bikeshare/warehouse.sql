-- A bike-share warehouse for `martsmith eval`: deterministic (DuckDB's hash() of the row number
-- and a salt, no random()), skewed like real usage, small enough to build in seconds.
-- Schema raw; declared as the dbt source `bikes`.
create schema if not exists raw;

create or replace macro u(i, salt) as (hash(i, salt) % 1000003) / 1000003.0;

create or replace table raw.stations as
select
    i as station_id,
    ['Harbor', 'Museum', 'Park', 'Market', 'Campus', 'Riverside', 'Old Town', 'Station Square'][1 + i % 8]
        || ' ' || (1 + i // 8)::varchar as name,
    ['Lisbon', 'Porto', 'Braga'][1 + floor(3 * pow(u(i, 'city'), 1.5))::int] as city,
    10 + floor(30 * u(i, 'cap'))::int as capacity,
    date '2019-01-01' + to_days(floor(1100 * u(i, 'open'))::int) as opened_on
from range(1, 41) t(i);

create or replace table raw.bikes as
select
    i as bike_id,
    ['Urban 3', 'Urban 5', 'Volt', 'Volt Max'][1 + floor(4 * u(i, 'model'))::int] as model,
    date '2020-03-01' + to_days(floor(1200 * u(i, 'bought'))::int) as purchased_on
from range(1, 151) t(i);
alter table raw.bikes add column kind varchar;
update raw.bikes set kind = case when model like 'Volt%' then 'electric' else 'classic' end;

create or replace table raw.riders as
select
    i as rider_id,
    ['Ana', 'Bruno', 'Carla', 'Diogo', 'Eva', 'Filipe', 'Gabriela', 'Hugo', 'Ines', 'Joao'][1 + i % 10]
        || ' ' || ['Silva', 'Santos', 'Costa', 'Pereira', 'Oliveira', 'Rodrigues'][1 + (i // 10) % 6] as full_name,
    'rider' || i::varchar || '@example.com' as email,
    case when u(i, 'member') < 0.35 then 'casual' else 'member' end as membership,
    1955 + floor(50 * u(i, 'born'))::int as birth_year,
    timestamp '2021-01-01 08:00:00' + to_minutes(floor(1500000 * u(i, 'signup'))::int) as signed_up_at
from range(1, 501) t(i);

-- Riders 481-500 never ride (existence questions have an answer); popular stations and riders
-- get far more trips than others.
create or replace table raw.trips as
with base as (
    select
        i,
        floor(40 * u(i, 'duration') * u(i, 'duration2') * 3)::int + 3 as minutes
    from range(1, 12001) t(i)
)
select
    i as trip_id,
    1 + floor(480 * pow(u(i, 'rider'), 1.8))::int as rider_id,
    1 + floor(150 * u(i, 'bike'))::int as bike_id,
    1 + floor(40 * pow(u(i, 'start'), 1.6))::int as start_station_id,
    case when u(i, 'round') < 0.06 then 1 + floor(40 * pow(u(i, 'start'), 1.6))::int
         else 1 + floor(40 * u(i, 'end'))::int end as end_station_id,
    timestamp '2024-01-01 06:00:00' + to_minutes(floor(1051200 * u(i, 'when'))::int) as started_at,
    timestamp '2024-01-01 06:00:00' + to_minutes(floor(1051200 * u(i, 'when'))::int + minutes) as ended_at,
    minutes as duration_minutes,
    round(0.3 + minutes * (0.1 + 0.2 * u(i, 'speed')), 1) as distance_km,
    cast(1.0 + minutes * 0.12 as decimal(8, 2)) as fare_amount
from base;

-- Bikes 141-150 were never serviced.
create or replace table raw.maintenance_events as
select
    i as event_id,
    1 + floor(140 * u(i, 'mbike'))::int as bike_id,
    timestamp '2024-01-05 09:00:00' + to_hours(floor(17000 * u(i, 'mwhen'))::int) as performed_at,
    ['tune_up', 'repair', 'battery'][1 + floor(3 * u(i, 'mkind'))::int] as kind,
    cast(15 + floor(180 * u(i, 'mcost')) as decimal(8, 2)) as cost_usd
from range(1, 601) t(i);

drop macro u;
