"""The catalog generation moves once per committed transaction that changed the catalog, never
for a rolled-back one or one that wrote only private tables, and holds no lock before commit."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from catalog import audit, generation
from catalog.models import RoleName
from catalog.principals import SYSTEM
from tests.factories import Factory


def current(engine: Engine) -> int:
    with engine.connect() as connection:
        ((value,),) = generation.CURRENT.rows(connection, {})
        return int(value)


def test_one_committed_transaction_moves_it_once(committed_engine: Engine, issuer) -> None:  # type: ignore[no-untyped-def]
    before = current(committed_engine)
    with Session(committed_engine) as session, session.begin():
        factory = Factory(session, issuer=issuer)
        steward = factory.organization()
        dataset = factory.dataset(steward, publish=True)
        factory.files(dataset, 3)
    assert current(committed_engine) == before + 1
    with committed_engine.begin() as connection:
        connection.execute(text("TRUNCATE bundle_members"))
    assert current(committed_engine) == before + 2


def test_a_rolled_back_transaction_leaves_it(committed_engine: Engine, issuer) -> None:  # type: ignore[no-untyped-def]
    before = current(committed_engine)
    with Session(committed_engine) as session:
        Factory(session, issuer=issuer).organization()
        session.rollback()
    assert current(committed_engine) == before
    with committed_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM catalog_touches")) == 0


def test_a_change_rolled_back_to_a_savepoint_does_not_count(
    committed_engine: Engine, issuer
) -> None:  # type: ignore[no-untyped-def]
    before = current(committed_engine)
    with Session(committed_engine) as session, session.begin():
        savepoint = session.begin_nested()
        Factory(session, issuer=issuer).organization()
        savepoint.rollback()
        audit.record(session, SYSTEM, "test.private", object_type="test", object_id="1")
    assert current(committed_engine) == before


def test_private_tables_do_not_move_it(committed_engine: Engine) -> None:
    before = current(committed_engine)
    with Session(committed_engine) as session, session.begin():
        audit.record(session, SYSTEM, "test.private", object_type="test", object_id="1")
    assert current(committed_engine) == before


def test_people_and_their_roles_do_not_move_it(committed_engine: Engine, issuer) -> None:  # type: ignore[no-untyped-def]
    """A first sign-in stores its user; no anonymous catalog answer reads users or roles."""
    with Session(committed_engine) as session, session.begin():
        steward = Factory(session, issuer=issuer).organization().slug
    before = current(committed_engine)
    with Session(committed_engine) as session, session.begin():
        factory = Factory(session, issuer=issuer)
        factory.headers("newcomer", (RoleName.STEWARD, steward))
    assert current(committed_engine) == before
    with committed_engine.connect() as connection:
        users = connection.scalar(text("SELECT count(*) FROM users WHERE subject = 'newcomer'"))
        roles = connection.scalar(text("SELECT count(*) FROM role_assignments"))
    assert (users, roles) == (1, 1)


def test_an_open_writer_does_not_block_another(committed_engine: Engine, issuer) -> None:  # type: ignore[no-untyped-def]
    before = current(committed_engine)
    with Session(committed_engine) as slow:
        Factory(slow, issuer=issuer).organization()
        slow.flush()
        with Session(committed_engine) as fast, fast.begin():
            fast.execute(text("SET LOCAL lock_timeout = '200ms'"))
            Factory(fast, issuer=issuer).organization()
        assert current(committed_engine) == before + 1
        slow.commit()
    assert current(committed_engine) == before + 2
