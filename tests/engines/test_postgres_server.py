"""The throwaway server itself: it starts, answers, and gives each test its own database."""

from __future__ import annotations


def test_the_server_answers_sql_in_a_database_of_its_own(postgres_server, postgres_db):
    con = postgres_server.connect(postgres_db)
    try:
        with con.cursor() as cur:
            cur.execute("select current_database(), 1 + 1")
            assert cur.fetchone() == (postgres_db, 2)
    finally:
        con.close()
