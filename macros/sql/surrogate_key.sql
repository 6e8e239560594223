{#-
    surrogate_key(field_list)

    An md5 hash of the given columns or SQL expressions, for use as a surrogate key:

        {{ martsmith.surrogate_key(['order_id', 'line_number']) }} as order_line_key

    Each field is cast to the warehouse's string type; nulls become the sentinel
    '_martsmith_null_' (so null and '' hash differently), and fields are joined with '-'.
    Same semantics as dbt_utils.generate_surrogate_key, with martsmith's own null sentinel.
-#}
{%- macro surrogate_key(field_list) -%}
    {{ return(adapter.dispatch('surrogate_key', 'martsmith')(field_list)) }}
{%- endmacro -%}

{%- macro default__surrogate_key(field_list) -%}
    {%- if field_list is string or field_list is mapping or field_list is not iterable -%}
        {{ exceptions.raise_compiler_error(
            "martsmith.surrogate_key expects a list of column names or SQL expressions, got "
            ~ field_list ~ ". Call it as {{ martsmith.surrogate_key(['col_a', 'col_b']) }}."
        ) }}
    {%- endif -%}
    {%- if field_list | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "martsmith.surrogate_key needs at least one field, got an empty list."
        ) }}
    {%- endif -%}

    {%- set null_sentinel = "'_martsmith_null_'" -%}
    {%- set fields = [] -%}
    {%- for field in field_list -%}
        {%- do fields.append(
            "coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), " ~ null_sentinel ~ ")"
        ) -%}
        {%- if not loop.last -%}
            {%- do fields.append("'-'") -%}
        {%- endif -%}
    {%- endfor -%}

    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro -%}
