-- A veterinary-clinic warehouse for `martsmith eval`: deterministic (DuckDB's hash() of the row
-- number and a salt, no random()), skewed like a real practice, small enough to build in seconds.
-- Schema raw; declared as the dbt source `practice`.
create schema if not exists raw;

create or replace macro u(i, salt) as (hash(i, salt) % 1000003) / 1000003.0;

create or replace table raw.vets as
select
    i as vet_id,
    ['Dr. Amara Quinn', 'Dr. Ben Okoro', 'Dr. Clara Voss', 'Dr. Dev Mehta', 'Dr. Elena Ruiz',
     'Dr. Felix Brandt', 'Dr. Grace Lin', 'Dr. Hugo Marsh', 'Dr. Isla Novak', 'Dr. Jonah Pike'][i] as vet_name,
    ['general', 'surgery', 'general', 'dentistry', 'general',
     'dermatology', 'surgery', 'general', 'dentistry', 'general'][i] as specialty,
    cast(date '2012-01-01' + to_days(floor(4000 * u(i, 'hired'))::int) as date) as hired_on
from range(1, 11) t(i);

create or replace table raw.owners as
select
    i as owner_id,
    ['Alice', 'Brian', 'Chloe', 'Daniel', 'Emma', 'Farid', 'Greta', 'Henry', 'Ivy', 'Jack',
     'Kira', 'Liam', 'Maya', 'Noah', 'Olga', 'Pablo', 'Quinn', 'Rosa', 'Sam', 'Tara'][1 + (i - 1) % 20]
        || ' ' || ['Adams', 'Baker', 'Carter', 'Dawson', 'Ellis', 'Foster', 'Grant', 'Hayes',
                   'Irwin', 'Jensen', 'Keller', 'Lowe', 'Morgan', 'Nash', 'Owens'][1 + ((i - 1) // 20) % 15] as full_name,
    'owner' || i::varchar || '@example.com' as email,
    ['Ashford', 'Brookside', 'Cedar Falls', 'Dunmore'][1 + floor(4 * pow(u(i, 'city'), 1.4))::int] as city,
    cast(date '2018-01-01' + to_days(floor(2200 * u(i, 'registered'))::int) as date) as registered_on
from range(1, 301) t(i);

-- Owners 281-300 (and some others) have no pets on file.
create or replace table raw.pets as
with p as (
    select
        i,
        case when u(i, 'species') < 0.46 then 'dog'
             when u(i, 'species') < 0.80 then 'cat'
             when u(i, 'species') < 0.92 then 'rabbit'
             else 'bird' end as species,
        u(i, 'breed') as b,
        u(i, 'weight') as w
    from range(1, 451) t(i)
)
select
    i as pet_id,
    1 + floor(280 * u(i, 'owner'))::int as owner_id,
    ['Bella', 'Max', 'Luna', 'Charlie', 'Milo', 'Daisy', 'Rocky', 'Coco', 'Oscar', 'Ruby',
     'Simba', 'Nala', 'Teddy', 'Willow', 'Ziggy', 'Pepper', 'Biscuit', 'Olive', 'Jasper', 'Maple'][1 + i % 20]
        || case when i > 20 then ' ' || (1 + i // 20)::varchar else '' end as pet_name,
    species,
    case species
        when 'dog' then ['Labrador', 'Beagle', 'Poodle', 'German Shepherd', 'Mixed'][1 + floor(5 * b)::int]
        when 'cat' then ['Siamese', 'Maine Coon', 'Domestic Shorthair', 'Persian'][1 + floor(4 * b)::int]
        when 'rabbit' then ['Lop', 'Rex'][1 + floor(2 * b)::int]
        else ['Budgie', 'Cockatiel', 'Parrot'][1 + floor(3 * b)::int] end as breed,
    cast(date '2010-06-01' + to_days(floor(5200 * u(i, 'born'))::int) as date) as born_on,
    round(case species
        when 'dog' then 4 + 41 * w
        when 'cat' then 2.5 + 4.5 * w
        when 'rabbit' then 1 + 3 * w
        else 0.03 + 1.1 * w end, 2) as weight_kg
from p;

-- Pets 431-450 (and a few others) never had an appointment; a few pets come in very often.
create or replace table raw.appointments as
with a as (
    select
        i,
        case when u(i, 'type') < 0.35 then 'checkup'
             when u(i, 'type') < 0.60 then 'vaccination'
             when u(i, 'type') < 0.72 then 'dental'
             when u(i, 'type') < 0.82 then 'surgery'
             else 'emergency' end as visit_type,
        u(i, 'dur') as d
    from range(1, 3001) t(i)
)
select
    i as appointment_id,
    1 + floor(430 * pow(u(i, 'pet'), 1.6))::int as pet_id,
    1 + floor(10 * pow(u(i, 'attending'), 1.3))::int as attending_vet_id,
    1 + floor(10 * pow(u(i, 'referring'), 0.8))::int as referring_vet_id,
    timestamp '2024-01-01 08:00:00' + to_days(floor(639 * u(i, 'day'))::int)
        + to_minutes(15 * floor(40 * u(i, 'slot'))::int) as scheduled_at,
    visit_type,
    (case visit_type
        when 'checkup' then 15 + floor(26 * d)
        when 'vaccination' then 10 + floor(16 * d)
        when 'dental' then 30 + floor(46 * d)
        when 'surgery' then 60 + floor(121 * d)
        else 20 + floor(101 * d) end)::int as duration_minutes,
    case when u(i, 'status') < 0.85 then 'completed'
         when u(i, 'status') < 0.94 then 'cancelled'
         else 'no_show' end as status
from a;

-- Only completed appointments get treatments (zero to two each).
create or replace table raw.treatments as
with t as (
    select a.appointment_id, k, u(a.appointment_id * 3 + k, 'med') as m
    from raw.appointments a cross join range(1, 3) r(k)
    where a.status = 'completed'
      and u(a.appointment_id * 3 + k, 'has') < case when k = 1 then 0.75 else 0.30 end
)
select
    row_number() over (order by appointment_id, k)::bigint as treatment_id,
    appointment_id,
    case when m < 0.22 then 'Rabies vaccine'
         when m < 0.40 then 'Amoxicillin'
         when m < 0.55 then 'Meloxicam'
         when m < 0.67 then 'Flea treatment'
         when m < 0.77 then 'Deworming'
         when m < 0.86 then 'Prednisolone'
         when m < 0.94 then 'Gabapentin'
         else 'Dental cleaning' end as medication,
    5 * (1 + floor(60 * u(appointment_id * 3 + k, 'dose'))::int) as dose_mg,
    cast(12 + floor(14000 * u(appointment_id * 3 + k, 'tcost')) / 100.0 as decimal(8, 2)) as cost_usd
from t;

-- One invoice per completed appointment; about 7% are still unpaid.
create or replace table raw.invoices as
with base as (
    select a.appointment_id, p.owner_id, a.scheduled_at, a.visit_type,
           coalesce((select sum(t.cost_usd) from raw.treatments t where t.appointment_id = a.appointment_id), 0) as tcost
    from raw.appointments a join raw.pets p on p.pet_id = a.pet_id
    where a.status = 'completed'
)
select
    row_number() over (order by appointment_id)::bigint as invoice_id,
    appointment_id,
    owner_id,
    cast(scheduled_at as date) as issued_on,
    cast(tcost + case visit_type when 'checkup' then 55 when 'vaccination' then 40 when 'dental' then 120
                                 when 'surgery' then 450 else 180 end as decimal(10, 2)) as amount_usd,
    ['card', 'cash', 'insurance'][1 + floor(3 * pow(u(appointment_id, 'method'), 1.3))::int] as payment_method,
    case when u(appointment_id, 'unpaid') < 0.07 then null
         else scheduled_at + to_hours(1 + floor(400 * u(appointment_id, 'paid'))::int) end as paid_at
from base;

drop macro u;
