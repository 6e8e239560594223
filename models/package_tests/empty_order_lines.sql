-- No rows, the columns of order_lines: bad data for martsmith.not_empty.
select *
from {{ ref('order_lines') }}
where 1 = 0
