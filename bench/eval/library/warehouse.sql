-- A public-library warehouse for `martsmith eval`: deterministic (DuckDB's hash() of the row
-- number and a salt), skewed like real lending. Schema raw; declared as the dbt source `lending`.
create schema if not exists raw;

create or replace macro u(i, salt) as (hash(i, salt) % 1000003) / 1000003.0;

create or replace table raw.branches as
select i as branch_id,
       ['Central', 'Northside', 'Lakeview', 'Hillcrest', 'Westgate', 'Eastbrook'][i] as branch_name,
       ['Springfield', 'Springfield', 'Shelbyville', 'Shelbyville', 'Ogdenville', 'Ogdenville'][i] as town,
       date '1990-01-01' + to_days(floor(12000 * u(i, 'opened'))::int) as opened_on
from range(1, 7) t(i);

create or replace table raw.authors as
select i as author_id,
       ['Maria', 'James', 'Aiko', 'Omar', 'Lena', 'Tomas', 'Priya', 'Chen', 'Sofia', 'Kwame'][1 + i % 10]
           || ' ' || ['Novak', 'Reyes', 'Okafor', 'Lindqvist', 'Haddad', 'Moreau', 'Tanaka'][1 + (i // 10) % 7] as author_name,
       ['Portugal', 'Japan', 'Nigeria', 'Sweden', 'Lebanon', 'France', 'India', 'Chile'][1 + floor(8 * u(i, 'nation'))::int] as nationality,
       1920 + floor(80 * u(i, 'born'))::int as birth_year
from range(1, 81) t(i);

create or replace table raw.books as
select i as book_id,
       'Volume ' || i::varchar as title,
       1 + floor(80 * pow(u(i, 'author'), 1.3))::int as author_id,
       ['fiction', 'mystery', 'science', 'history', 'children', 'poetry', 'travel'][1 + floor(7 * pow(u(i, 'genre'), 1.4))::int] as genre,
       1950 + floor(75 * u(i, 'year'))::int as published_year,
       80 + floor(700 * u(i, 'pages'))::int as page_count,
       cast(8 + floor(4000 * u(i, 'price')) / 100.0 as decimal(8, 2)) as list_price
from range(1, 801) t(i);

create or replace table raw.members as
select i as member_id,
       'Member ' || i::varchar as member_name,
       ['standard', 'student', 'senior', 'family'][1 + floor(4 * pow(u(i, 'tier'), 1.2))::int] as tier,
       1 + floor(6 * u(i, 'home'))::int as home_branch_id,
       date '2015-01-01' + to_days(floor(3650 * u(i, 'joined'))::int) as joined_on
from range(1, 1201) t(i);

-- Books 781-800 were never lent; members 1151-1200 never borrowed.
create or replace table raw.loans as
with l as (
    select i,
           timestamp '2023-01-02 09:00:00' + to_minutes(floor(1500000 * u(i, 'when'))::int) as borrowed_at,
           floor(60 * pow(u(i, 'days'), 1.5))::int as days_out
    from range(1, 20001) t(i)
)
select i as loan_id,
       1 + floor(780 * pow(u(i, 'book'), 1.7))::int as book_id,
       1 + floor(1150 * pow(u(i, 'member'), 1.5))::int as member_id,
       1 + floor(6 * pow(u(i, 'branch'), 1.3))::int as branch_id,
       borrowed_at,
       cast(borrowed_at as date) + 21 as due_on,
       case when u(i, 'open') < 0.04 then null else borrowed_at + to_days(days_out) end as returned_at,
       case when days_out > 21 then cast((days_out - 21) * 0.25 as decimal(8, 2)) else 0 end as late_fee
from l;

drop macro u;
