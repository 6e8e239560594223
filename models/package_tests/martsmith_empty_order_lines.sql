-- No rows, the columns of martsmith_order_lines: bad data for martsmith.not_empty.
select *
from {{ ref('martsmith_order_lines') }}
where 1 = 0
