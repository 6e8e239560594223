"""A deterministic raw "shop" dataset, generated in SQL inside DuckDB and loaded into schema `raw`.

Every value is a pure function of a row number: `hash(id, salt)` stands in for randomness, so the
same scale factor always yields the same rows, and 10 million order items take seconds because
no row passes through Python. Scale 1.0 is about 10,000 order items; scale 1000 about 10 million.

>>> import duckdb
>>> con = duckdb.connect()
>>> counts = load_sample(con, scale=0.05)
>>> counts["orders"] == sample_size(0.05).orders + expected_count("late_order_status_updates", 0.05)
True

Tables (`raw.customers`, `raw.products`, `raw.orders`, `raw.order_items`, `raw.payments`) carry
DuckDB comments on every table and column; `martsmith sources` turns them into descriptions.

Planted data problems (what a data-quality review of this source should find). Each is chosen by
a fixed stride over the ids of its table, so that its count is known exactly for any scale (see
`PLANTED_PROBLEMS` and `expected_count`):

- customers
  - exact duplicate rows: every 97th customer (id % 97 = 13) appears twice, byte for byte;
  - late-arriving updates: every 61st customer (id % 61 = 29) appears a second time with a later
    `updated_at` and a new email and country: keep the latest row per id;
  - null emails (id % 37 = 5) and null countries (id % 50 = 8);
  - inconsistent country spelling: lower case ('united states', id % 50 in 3, 13, 23, 33, 43)
    and upper case with a trailing space ('GERMANY ', id % 50 in 7, 17, 27);
- products: categories in mixed case ('electronics' beside 'Electronics', id % 6 = 2);
- orders
  - orphans: `customer_id` points to no customer (id % 499 = 17);
  - statuses in mixed case ('Completed', id % 41 = 7);
  - late-arriving status updates: id % 53 = 21 appear first as 'placed' and again, later in the
    table, with their final status and a later `updated_at`: keep the latest row per id;
- order_items (on the first line of an order)
  - negative quantities, a data-entry error (order_id % 743 = 101): the order's `amount` was
    computed from the positive quantity;
  - `product_id` pointing to no product (order_id % 1009 = 11);
- payments
  - `amount` is text; some have stray spaces (' 12.50 ', order_id % 71 = 5);
  - orphans: payments whose `order_id` points to no order (one per order with id % 401 = 3).

Everything else is clean: ids are unique apart from the duplicates above, line totals are
non-negative, `shipped_at` is null exactly for 'placed' and 'cancelled' orders, cancelled
orders have no payment and the other orders' payments add up to their amount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SCHEMA = "raw"
TABLES = ("customers", "products", "orders", "order_items", "payments")

# Fixed calendar: the data never depends on today's date.
ORDERS_START = "2024-01-01 00:00:00"
DATA_END = "2025-12-31 23:59:59"
CUSTOMERS_START = "2023-07-01 00:00:00"

COUNTRIES = [
    ("United States", 30),
    ("Germany", 12),
    ("United Kingdom", 12),
    ("France", 10),
    ("Canada", 9),
    ("Netherlands", 7),
    ("Spain", 7),
    ("Italy", 6),
    ("Brazil", 4),
    ("Japan", 3),
]
CATEGORIES = ["Electronics", "Home", "Garden", "Toys", "Books", "Sports", "Beauty", "Grocery"]
STATUSES = ["placed", "shipped", "completed", "returned", "cancelled"]
PAYMENT_METHODS = ["credit_card", "bank_transfer", "gift_card", "coupon"]
FIRST_NAMES = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Maria",
    "Hans",
    "Anna",
    "Pierre",
    "Sophie",
    "Luca",
    "Giulia",
    "Yuki",
    "Haruto",
    "Lucas",
    "Emma",
    "Noah",
    "Olivia",
    "Liam",
    "Mia",
    "Mateo",
    "Sofia",
    "Jan",
    "Eva",
    "Omar",
    "Lea",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Dubois",
    "Laurent",
    "Bernard",
    "Rossi",
    "Russo",
    "Bianchi",
    "Sato",
    "Suzuki",
    "Tanaka",
    "Silva",
    "Santos",
    "de Vries",
    "Jansen",
    "Bakker",
    "Fernandez",
    "Lopez",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
]
EMAIL_DOMAINS = ["example.com", "mail.example", "inbox.example", "post.example"]
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Eco", "Essential", "Premium", "Pro", "Smart", "Ultra", "Vintage"]
NOUNS = {
    "Electronics": ["Headphones", "Charger", "Speaker", "Keyboard", "Monitor"],
    "Home": ["Lamp", "Blanket", "Mug", "Chair", "Rug"],
    "Garden": ["Hose", "Planter", "Shears", "Seeds", "Gloves"],
    "Toys": ["Puzzle", "Robot", "Blocks", "Kite", "Plush Bear"],
    "Books": ["Cookbook", "Novel", "Atlas", "Field Guide", "Notebook"],
    "Sports": ["Yoga Mat", "Football", "Water Bottle", "Racket", "Dumbbell"],
    "Beauty": ["Face Cream", "Shampoo", "Perfume", "Lip Balm", "Soap"],
    "Grocery": ["Coffee", "Olive Oil", "Tea", "Chocolate", "Honey"],
}
# (low, high) price range in USD per category.
PRICE_RANGES = {
    "Electronics": (19, 499),
    "Home": (9, 249),
    "Garden": (4, 129),
    "Toys": (7, 89),
    "Books": (6, 59),
    "Sports": (9, 199),
    "Beauty": (4, 89),
    "Grocery": (2, 39),
}


# ---------------------------------------------------------------------------------------------
# Sizes and planted problems
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleSize:
    """Base entity counts for a scale factor (before duplicates and late updates are added)."""

    customers: int
    products: int
    orders: int


def sample_size(scale: float) -> SampleSize:
    """Scale 1.0: 1,000 customers, 50 products, 3,333 orders (about 10,000 order items).

    >>> sample_size(1.0)
    SampleSize(customers=1000, products=50, orders=3333)
    >>> sample_size(1000).orders
    3333333
    """
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    return SampleSize(
        customers=max(100, round(1000 * scale)),
        products=max(20, round(50 * math.sqrt(scale))),
        orders=max(200, round(10_000 * scale / 3)),
    )


def stride_count(n: int, modulus: int, residues: tuple[int, ...]) -> int:
    """How many ids in 1..n have `id % modulus` in `residues`.

    >>> stride_count(100, 10, (3,)), stride_count(100, 10, (0,)), stride_count(2, 10, (3,))
    (10, 10, 0)
    """
    total = 0
    for r in residues:
        total += n // modulus if r == 0 else ((n - r) // modulus + 1 if n >= r else 0)
    return total


@dataclass(frozen=True)
class PlantedProblem:
    """A data problem planted on purpose: where it is, how to count it, how many there are.

    `check_sql` returns one integer; it equals `expected(scale)` for data loaded at that scale.
    The problem hits the ids of `entity` (customers, products or orders) with `id % modulus` in
    `residues`.
    """

    key: str
    table: str
    column: str | None
    description: str
    entity: str
    modulus: int
    residues: tuple[int, ...]
    check_sql: str

    def expected(self, scale: float) -> int:
        n = getattr(sample_size(scale), self.entity)
        return stride_count(n, self.modulus, self.residues)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _canonical(values: list[str]) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _late_updates(key: str, table: str, modulus: int, residue: int, versions: str, description: str) -> PlantedProblem:
    """Rows of `table` that arrive again with a later updated_at: counted as the ids with more
    than one `versions` (an aggregate over the rows of an id)."""
    return PlantedProblem(
        key,
        table,
        "updated_at",
        f"{description} Keep the latest row per id.",
        table,
        modulus,
        (residue,),
        f"select count(*) from (select id from raw.{table} group by id having {versions} > 1)",
    )


def _orphans(
    key: str,
    table: str,
    column: str,
    parent: str,
    modulus: int,
    residue: int,
    description: str,
    *,
    rows: str = "count(*)",
) -> PlantedProblem:
    """Rows of `table` whose `column` matches no id of `parent` (orphaned keys), planted by
    order id and counted by `rows`."""
    return PlantedProblem(
        key,
        table,
        column,
        description,
        "orders",
        modulus,
        (residue,),
        f"select {rows} from raw.{table} t where not exists (select 1 from raw.{parent} p where p.id = t.{column})",
    )


_COUNTRY_NAMES = [c for c, _ in COUNTRIES]

PLANTED_PROBLEMS: tuple[PlantedProblem, ...] = (
    PlantedProblem(
        "duplicate_customer_rows",
        "customers",
        None,
        "Exact duplicate rows: the same customer row appears twice.",
        "customers",
        97,
        (13,),
        "select count(*) from (select *, count(*) as n from raw.customers group by all) where n > 1",
    ),
    # count(distinct updated_at): the exact duplicates above repeat an id too
    _late_updates(
        "late_customer_updates",
        "customers",
        61,
        29,
        "count(distinct updated_at)",
        "Late-arriving updates: a second row for the customer with a later updated_at and a changed email and country.",
    ),
    PlantedProblem(
        "null_customer_emails",
        "customers",
        "email",
        "Customers without an email.",
        "customers",
        37,
        (5,),
        "select count(distinct id) from raw.customers where email is null",
    ),
    PlantedProblem(
        "null_customer_countries",
        "customers",
        "country",
        "Customers without a country.",
        "customers",
        50,
        (8,),
        "select count(distinct id) from raw.customers where country is null",
    ),
    PlantedProblem(
        "inconsistent_country_spelling",
        "customers",
        "country",
        "Country names in lower case or upper case with a trailing space ('united states', "
        "'GERMANY '): trim and normalise the case before grouping.",
        "customers",
        50,
        (3, 13, 23, 33, 43, 7, 17, 27),
        "select count(distinct id) from raw.customers where country is not null "
        f"and country not in {_canonical(_COUNTRY_NAMES)}",
    ),
    PlantedProblem(
        "inconsistent_category_case",
        "products",
        "category",
        "Categories in lower case ('electronics' beside 'Electronics').",
        "products",
        6,
        (2,),
        f"select count(*) from raw.products where category not in {_canonical(CATEGORIES)}",
    ),
    # count(distinct id): late status updates repeat an order's row
    _orphans(
        "orphan_orders",
        "orders",
        "customer_id",
        "customers",
        499,
        17,
        "Orders whose customer_id matches no customer.",
        rows="count(distinct t.id)",
    ),
    PlantedProblem(
        "mixed_case_order_status",
        "orders",
        "status",
        "Statuses with a capital first letter ('Completed'): compare in lower case.",
        "orders",
        41,
        (7,),
        "select count(*) from raw.orders where status <> lower(status)",
    ),
    _late_updates(
        "late_order_status_updates",
        "orders",
        53,
        21,
        "count(*)",
        "Late-arriving status updates: the order appears first as 'placed' and again with its "
        "final status and a later updated_at.",
    ),
    PlantedProblem(
        "negative_quantities",
        "order_items",
        "quantity",
        "Negative quantities (data-entry errors); the order amount used the positive quantity.",
        "orders",
        743,
        (101,),
        "select count(*) from raw.order_items where quantity < 0",
    ),
    _orphans(
        "orphan_order_item_products",
        "order_items",
        "product_id",
        "products",
        1009,
        11,
        "Order items whose product_id matches no product.",
    ),
    PlantedProblem(
        "payment_amount_whitespace",
        "payments",
        "amount",
        "Payment amounts (text) with stray spaces (' 12.50 '): trim before casting.",
        "orders",
        71,
        (5,),
        "select count(*) from raw.payments where amount <> trim(amount)",
    ),
    _orphans("orphan_payments", "payments", "order_id", "orders", 401, 3, "Payments whose order_id matches no order."),
)


def planted_problem(key: str) -> PlantedProblem:
    for p in PLANTED_PROBLEMS:
        if p.key == key:
            return p
    raise KeyError(f"no planted problem {key!r}; known: {', '.join(p.key for p in PLANTED_PROBLEMS)}")


def expected_count(key: str, scale: float) -> int:
    """How many instances of a planted problem data loaded at `scale` holds."""
    return planted_problem(key).expected(scale)


def _stride(key: str, id_expr: str = "id") -> str:
    """SQL condition selecting the ids a planted problem hits."""
    p = planted_problem(key)
    residues = ", ".join(str(r) for r in p.residues)
    return f"({id_expr} % {p.modulus} in ({residues}))"


# ---------------------------------------------------------------------------------------------
# Comments: they become the descriptions of the dbt source
# ---------------------------------------------------------------------------------------------

SOURCE_DESCRIPTION = (
    "Raw exports of the shop backend and its payment provider, loaded as they come: expect "
    "duplicates, late-arriving updates, inconsistent spelling and orphaned keys."
)

TABLE_COMMENTS = {
    "customers": "Customer accounts from the shop backend, one row per account version. "
    "Contains exact duplicates and late-arriving updates (several rows per id): keep the "
    "latest updated_at per id.",
    "products": "Product catalog, one row per product.",
    "orders": "Orders from the shop backend, one row per order version. Status changes "
    "arrive as new rows with a later updated_at: keep the latest per id.",
    "order_items": "Order lines, one row per product in an order.",
    "payments": "Payments received, one row per payment; an order may be paid in several "
    "payments (e.g. a gift card and a credit card).",
}

COLUMN_COMMENTS = {
    "customers": {
        "id": "Customer id (not unique in this table: see updated_at).",
        "first_name": "Given name.",
        "last_name": "Family name.",
        "email": "Email address; may be null.",
        "country": "Country name as entered (inconsistent case and whitespace); may be null.",
        "city": "City name.",
        "created_at": "When the account was created (UTC).",
        "updated_at": "When this version of the account was written (UTC).",
    },
    "products": {
        "id": "Product id.",
        "name": "Product name.",
        "category": "Product category as entered (inconsistent case).",
        "price": "Current list price in USD.",
        "is_active": "Whether the product is still sold.",
    },
    "orders": {
        "id": "Order id (not unique in this table: see updated_at).",
        "customer_id": "The customer who placed the order (customers.id).",
        "status": "One of placed, shipped, completed, returned, cancelled (inconsistent case).",
        "ordered_at": "When the order was placed (UTC).",
        "shipped_at": "When the order was shipped (UTC); null if not shipped.",
        "amount": "Order total in USD, after discounts.",
        "updated_at": "When this version of the order was written (UTC).",
    },
    "order_items": {
        "id": "Order line id.",
        "order_id": "The order (orders.id).",
        "product_id": "The product ordered (products.id).",
        "quantity": "Units ordered.",
        "unit_price": "Price of one unit in USD at the time of the order, before discount.",
        "discount": "Discount on the line as a fraction of the price (0.10 = 10% off).",
    },
    "payments": {
        "id": "Payment id.",
        "order_id": "The order paid (orders.id).",
        "method": "Payment method: credit_card, bank_transfer, gift_card or coupon.",
        "amount": "Amount paid in USD, stored as text (e.g. '12.50').",
        "paid_at": "When the payment was received (UTC).",
    },
}


# ---------------------------------------------------------------------------------------------
# SQL fragments
# ---------------------------------------------------------------------------------------------


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_lit(v) for v in values) + "]"


def _u(key: str, salt: str) -> str:
    """A uniform pseudo-random double in [0, 1) from a key expression and a salt."""
    return f"((hash({key}, {_lit(salt)}) % 1000000)::double / 1000000.0)"


def _pick(values: list[str], key: str, salt: str) -> str:
    return f"{_list(values)}[1 + (hash({key}, {_lit(salt)}) % {len(values)})::integer]"


def _weighted(pairs: list[tuple[str, int]], key: str, salt: str) -> str:
    """One of the values with the given integer weights."""
    expanded = [value for value, weight in pairs for _ in range(weight)]
    return _pick(expanded, key, salt)


def _seconds(start: str, span_expr: str) -> str:
    return f"(timestamp {_lit(start)} + to_seconds(({span_expr})::bigint))"


def _customer_created_at(id_expr: str) -> str:
    # A pure function of the id: orders compute their customer's creation time without a join.
    span = f"{_u(id_expr, 'created')} * (epoch(timestamp '2025-09-30') - epoch(timestamp {_lit(CUSTOMERS_START)}))"
    return _seconds(CUSTOMERS_START, span)


def _product_category(id_expr: str) -> str:
    return _pick(CATEGORIES, id_expr, "category")


def _product_price(id_expr: str) -> str:
    """List price: a pure function of the product id (order items use it without a join)."""
    cat = _product_category(id_expr)
    lows = "map {" + ", ".join(f"{_lit(c)}: {lo}" for c, (lo, _) in PRICE_RANGES.items()) + "}"
    highs = "map {" + ", ".join(f"{_lit(c)}: {hi}" for c, (_, hi) in PRICE_RANGES.items()) + "}"
    # A skew towards cheap products; prices end in .99 or .49.
    u = _u(id_expr, "price")
    return (
        f"(floor({lows}[{cat}] + ({highs}[{cat}] - {lows}[{cat}]) * {u} * {u})"
        f" + case when hash({id_expr}, 'cents') % 3 = 0 then 0.49 else 0.99 end)::decimal(10, 2)"
    )


def _customers_sql(n: int) -> str:
    first = _pick(FIRST_NAMES, "id", "first")
    last = _pick(LAST_NAMES, "id", "last")
    country = _weighted(COUNTRIES, "id", "country")
    names = _list(_COUNTRY_NAMES)
    email = (
        f"lower(replace({first} || '.' || {last}, ' ', '')) || id::varchar || '@' || "
        f"{_pick(EMAIL_DOMAINS, 'id', 'domain')}"
    )
    cities = {
        "United States": ["New York", "Chicago", "Austin", "Seattle"],
        "Germany": ["Berlin", "Munich", "Hamburg"],
        "United Kingdom": ["London", "Manchester", "Leeds"],
        "France": ["Paris", "Lyon", "Toulouse"],
        "Canada": ["Toronto", "Montreal", "Vancouver"],
        "Netherlands": ["Amsterdam", "Utrecht"],
        "Spain": ["Madrid", "Barcelona", "Valencia"],
        "Italy": ["Rome", "Milan", "Turin"],
        "Brazil": ["Sao Paulo", "Rio de Janeiro"],
        "Japan": ["Tokyo", "Osaka"],
    }
    city_map = "map {" + ", ".join(f"{_lit(k)}: {_list(v)}" for k, v in cities.items()) + "}"
    city = lambda c: f"{city_map}[{c}][1 + (hash(id, 'city') % len({city_map}[{c}]))::integer]"  # noqa: E731
    messy_lower = "id % 50 in (3, 13, 23, 33, 43)"
    messy_upper = "id % 50 in (7, 17, 27)"
    end = f"timestamp {_lit(DATA_END)}"
    return f"""
    create temp table _ms_customers as
    with base as (
        select range::integer as id from range(1, {n + 1})
    ), people as (
        select
            id,
            {first} as first_name,
            {last} as last_name,
            {email} as email,
            {country} as clean_country,
            {_customer_created_at("id")} as created_at
        from base
    )
    select
        id,
        first_name,
        last_name,
        case when {_stride("null_customer_emails")} then null else email end as email,
        case
            when {_stride("null_customer_countries")} then null
            when {messy_lower} then lower(clean_country)
            when {messy_upper} then upper(clean_country) || ' '
            else clean_country
        end as country,
        {city("clean_country")} as city,
        created_at,
        created_at + to_seconds(({_u("id", "edited")} * 30 * 86400)::bigint) as updated_at,
        -- the late-arriving version: the customer moved and changed email
        {names}[1 + ((list_position({names}, clean_country) + hash(id, 'moved') % 9) % {len(COUNTRIES)})::integer]
            as new_country,
        replace(email, '@', '+new@') as new_email,
        {_u("id", "late")} as late_u,
        {end} as data_end
    from people
    """


def _load_customers(con, size: SampleSize) -> None:
    con.execute(_customers_sql(size.customers))
    con.execute("""
    create table raw.customers (
        id integer, first_name varchar, last_name varchar, email varchar, country varchar,
        city varchar, created_at timestamp, updated_at timestamp
    )""")
    columns = "id, first_name, last_name, email, country, city, created_at, updated_at"
    con.execute(f"insert into raw.customers select {columns} from _ms_customers order by id")
    # Exact duplicates, appended as an export glitch would.
    con.execute(
        f"insert into raw.customers select {columns} from _ms_customers "
        f"where {_stride('duplicate_customer_rows')} order by id"
    )
    # Late-arriving updates: a new version, later than the first, arriving last.
    con.execute(f"""
    insert into raw.customers
    select
        id, first_name, last_name, coalesce(new_email, lower(first_name) || id::varchar || '@example.com'),
        new_country,
        {_capital_city("new_country")},
        created_at,
        updated_at + to_seconds(greatest(60, late_u * (epoch(data_end) - epoch(updated_at)))::bigint)
    from _ms_customers
    where {_stride("late_customer_updates")}
    order by id
    """)
    con.execute("drop table _ms_customers")


def _capital_city(country: str) -> str:
    # The new city after a move: the capital-ish first city of the new country.
    cities = {
        "United States": "New York",
        "Germany": "Berlin",
        "United Kingdom": "London",
        "France": "Paris",
        "Canada": "Toronto",
        "Netherlands": "Amsterdam",
        "Spain": "Madrid",
        "Italy": "Rome",
        "Brazil": "Sao Paulo",
        "Japan": "Tokyo",
    }
    return "map {" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in cities.items()) + "}" + f"[{country}]"


def _load_products(con, size: SampleSize) -> None:
    cat = _product_category("id")
    adjective = _pick(ADJECTIVES, "id", "adjective")
    nouns = "map {" + ", ".join(f"{_lit(c)}: {_list(v)}" for c, v in NOUNS.items()) + "}"
    noun = f"{nouns}[{cat}][1 + (hash(id, 'noun') % 5)::integer]"
    con.execute(f"""
    create table raw.products as
    select
        id::integer as id,
        ({adjective} || ' ' || {noun} || ' ' || (100 + id)::varchar)::varchar as name,
        (case when {_stride("inconsistent_category_case")} then lower({cat}) else {cat} end)::varchar as category,
        {_product_price("id")} as price,
        (hash(id, 'active') % 10 <> 0)::boolean as is_active
    from (select range::integer as id from range(1, {size.products + 1}))
    order by id
    """)


def _load_orders(con, size: SampleSize) -> None:
    """Orders and their items; the order amount is the sum of its lines."""
    n_c, n_p = size.customers, size.products
    weights = [("completed", 60), ("shipped", 12), ("placed", 8), ("returned", 10), ("cancelled", 10)]
    status = _weighted(weights, "id", "status")
    final_late = _pick(["shipped", "completed"], "id", "status_late")
    customer = f"(1 + hash(id, 'customer') % {n_c})::integer"
    orphan_customer = f"({n_c} + 1000 + id % 97)::integer"
    created = _customer_created_at("customer_id")
    start = f"greatest({created}, timestamp {_lit(ORDERS_START)})"
    ordered = (
        f"{start} + to_seconds(({_u('id', 'ordered')} * (epoch(timestamp {_lit(DATA_END)}) - epoch({start})))::bigint)"
    )
    con.execute(f"""
    create temp table _ms_orders as
    with base as (
        select
            id,
            case when {_stride("orphan_orders")} then {orphan_customer} else {customer} end as customer_id,
            case
                when {_stride("late_order_status_updates")} then {final_late}
                when {_stride("payment_amount_whitespace")} and {status} = 'cancelled' then 'completed'
                else {status}
            end as base_status
        from (select range::integer as id from range(1, {size.orders + 1}))
    )
    select
        id,
        customer_id,
        base_status,
        {ordered} as ordered_at,
        (1 + hash(id, 'lines') % 5)::integer as lines
    from base
    """)
    product = f"(1 + hash(order_id, line, 'product') % {n_p})::integer"
    orphan_product = f"({n_p} + 500 + order_id % 89)::integer"
    con.execute(f"""
    create temp table _ms_items as
    with lines as (
        select id as order_id, unnest(range(lines)) as line from _ms_orders
    ), items as (
        select
            order_id,
            line,
            case when line = 0 and {_stride("orphan_order_item_products", "order_id")}
                then {orphan_product} else {product} end as product_id,
            (1 + (hash(order_id, line, 'qty') % 10 // 4))::integer as true_quantity,
            list_extract([0, 0, 0, 0, 0, 0, 0.05, 0.10, 0.15, 0.20],
                1 + (hash(order_id, line, 'discount') % 10)::integer)::decimal(4, 2) as discount
        from lines
    )
    select
        row_number() over (order by order_id, line)::integer as id,
        order_id,
        product_id,
        case when line = 0 and {_stride("negative_quantities", "order_id")}
            then -true_quantity else true_quantity end as quantity,
        true_quantity,
        {_product_price("product_id")} as unit_price,
        discount
    from items
    """)
    con.execute("""
    create table raw.order_items as
    select id, order_id, product_id, quantity, unit_price, discount from _ms_items order by id
    """)
    shipped = f"(ordered_at + to_seconds((86400 * (1 + {_u('id', 'ship')} * 4))::bigint))"
    capital = "upper(base_status[1]) || base_status[2:]"
    con.execute(f"""
    create temp table _ms_final as
    with totals as (
        select order_id, sum(round(true_quantity * unit_price * (1 - discount), 2)) as amount
        from _ms_items group by order_id
    )
    select
        id,
        customer_id,
        (case when {_stride("mixed_case_order_status")} then {capital} else base_status end)::varchar as status,
        ordered_at,
        case when base_status in ('placed', 'cancelled') then null else {shipped} end as shipped_at,
        totals.amount::decimal(12, 2) as amount,
        base_status as clean_status
    from _ms_orders
    join totals on totals.order_id = _ms_orders.id
    """)
    con.execute("drop table _ms_items")
    con.execute("""
    create table raw.orders (
        id integer, customer_id integer, status varchar, ordered_at timestamp,
        shipped_at timestamp, amount decimal(12, 2), updated_at timestamp
    )""")
    late = _stride("late_order_status_updates")
    con.execute(f"""
    insert into raw.orders
    select id, customer_id,
        case when {late} then 'placed' else status end,
        ordered_at,
        case when {late} then null else shipped_at end,
        amount,
        case when {late} then ordered_at + interval 5 minute
            else coalesce(shipped_at, ordered_at) + to_seconds((3600 * (1 + {_u("id", "upd")} * 47))::bigint) end
    from _ms_final order by id
    """)
    con.execute(f"""
    insert into raw.orders
    select id, customer_id, status, ordered_at, shipped_at, amount,
        shipped_at + to_seconds((3600 * (1 + {_u("id", "upd")} * 47))::bigint)
    from _ms_final where {late} order by id
    """)
    _load_payments(con, size)
    con.execute("drop table _ms_orders")
    con.execute("drop table _ms_final")


def _load_payments(con, size: SampleSize) -> None:
    method = _weighted(
        [("credit_card", 6), ("bank_transfer", 2), ("gift_card", 1), ("coupon", 1)], "order_id", "method"
    )
    split = "(hash(order_id, 'split') % 9 = 4 and amount > 10)"
    paid = f"ordered_at + to_seconds((30 + {_u('order_id', 'paid')} * 600)::bigint)"
    # amount as text, as the payment provider's export has it
    whitespace = f"part = 0 and order_id <= {size.orders} and {_stride('payment_amount_whitespace', 'order_id')}"
    text = f"case when {whitespace} then ' ' || a::decimal(12, 2)::varchar || ' ' else a::decimal(12, 2)::varchar end"
    con.execute(f"""
    create table raw.payments as
    with paid as (
        select id as order_id, amount, ordered_at from _ms_final where clean_status <> 'cancelled'
    ), parts as (
        -- one payment, or a gift card for part of it and a credit card for the rest
        select order_id, 0 as part,
            case when {split} then 'gift_card' else {method} end as method,
            case when {split} then least(25.00, round(amount * 0.3, 2)) else amount end as a,
            {paid} as paid_at
        from paid
        union all
        select order_id, 1, 'credit_card', amount - least(25.00, round(amount * 0.3, 2)),
            {paid} + interval 1 minute
        from paid where {split}
        union all
        -- payments for orders that are not in the orders export
        select {size.orders} + order_id, 0, 'credit_card', round(amount / 2, 2), {paid} + interval 2 hour
        from paid where {_stride("orphan_payments", "order_id")}
        union all
        select {size.orders} + id, 0, 'credit_card', amount, ordered_at + interval 2 hour
        from _ms_final where clean_status = 'cancelled' and {_stride("orphan_payments")}
    )
    select
        row_number() over (order by order_id, part)::integer as id,
        order_id::integer as order_id,
        method::varchar as method,
        ({text})::varchar as amount,
        paid_at::timestamp as paid_at
    from parts
    order by id
    """)


def _comment(con) -> None:
    for table, comment in TABLE_COMMENTS.items():
        con.execute(f"comment on table {SCHEMA}.{table} is {_lit(comment)}")
        for column, text in COLUMN_COMMENTS[table].items():
            con.execute(f"comment on column {SCHEMA}.{table}.{column} is {_lit(text)}")


def load_sample(con: Any, scale: float = 1.0) -> dict[str, int]:
    """Create schema `raw` with the shop tables on a DuckDB connection; return row counts.

    Replaces the five tables if they exist. All or nothing: on failure the transaction is
    rolled back.
    """
    size = sample_size(scale)
    # No progress bar on stderr from a library call; restored afterwards.
    (progress_bar,) = con.execute("select current_setting('enable_progress_bar')").fetchall()[0]
    con.execute("set enable_progress_bar = false")
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        for table in TABLES:
            con.execute(f"drop table if exists {SCHEMA}.{table}")
        _load_customers(con, size)
        _load_products(con, size)
        _load_orders(con, size)
        _comment(con)
        counts = {t: int(con.execute(f"select count(*) from {SCHEMA}.{t}").fetchall()[0][0]) for t in TABLES}
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute(f"set enable_progress_bar = {'true' if progress_bar else 'false'}")
    return counts
