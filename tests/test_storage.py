"""The database of saved work, on SQLite and on a real PostgreSQL (see tests/pg_cluster.py).

Each save is one transaction: a kill -9 in the middle of saves never leaves a partial
record; two sessions saving one name: one wins whole, the other is told; a concurrent
delete never breaks a listing; spaces never see each other's work.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import signal
import threading
import time

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from territorial.storage import ConflictError, Database, ReadOnlyError, StorageError
from territorial.storage.base import now
from territorial.storage.schema import settings, spaces, tables
from territorial.storage.workspace import Workspace

KILL_REPEATS = 50


def _frame(marker: int, rows: int = 50) -> pd.DataFrame:
    codes = [f"{i:05d}" for i in range(rows)]
    return pd.DataFrame({"marker": [float(marker)] * rows}, index=pd.Index(codes, name="code"))


@pytest.fixture
def db(database_url):
    return Database(database_url)


def test_tables_round_trip_rename_delete(db):
    space = db.space("prive-a", kind="prive", editable=True)
    assert space.tables() == [] and space.version() == "vide"
    slug = space.save_table("Tiers-lieux", "departement", _frame(1), {"regles": {"x": "somme"}})
    assert slug == "tiers_lieux"
    meta, values = space.load_table(slug)
    assert meta["nom"] == "Tiers-lieux" and meta["regles"] == {"x": "somme"}
    assert meta["version"] == 1 and values["marker"].eq(1).all()
    assert values.index.name == "code" and values.index[0] == "00000"
    before = space.version()
    assert space.rename(slug, "Tiers-lieux 2025") == "tiers_lieux_2025"
    assert space.version() != before
    assert [t["nom"] for t in space.tables()] == ["Tiers-lieux 2025"]
    space.delete("tiers_lieux_2025")
    space.delete("tiers_lieux_2025")  # already gone: no error
    assert space.tables() == []


def test_too_long_names_are_refused_in_french(db):
    space = db.space("prive-a", kind="prive", editable=True)
    with pytest.raises(StorageError, match="trop long"):
        space.save_table("x" * 121, "region", _frame(1), {})
    with pytest.raises(StorageError, match="trop long"):
        space.save_perimeters("y" * 121, b"", "p.csv", "utilisateur")
    assert space.tables() == [] and space.perimeter_sets() == []


def test_replacing_needs_the_version_seen(db):
    space = db.space("prive-a", kind="prive", editable=True)
    space.save_table("T", "region", _frame(1), {})
    with pytest.raises(ConflictError, match="entre-temps"):
        space.save_table("T", "region", _frame(2), {})  # "new", but it exists
    space.save_table("T", "region", _frame(2), {}, expected=1)
    with pytest.raises(ConflictError):
        space.save_table("T", "region", _frame(3), {}, expected=1)  # stale version
    assert space.load_table("t")[1]["marker"].eq(2).all()


def test_spaces_are_isolated_and_ateliers_read_only_without_the_token(db):
    mine = db.space("session-a", kind="prive", editable=True)
    mine.save_table("Privé", "region", _frame(1), {})
    assert db.space("session-b", kind="prive", editable=True).tables() == []
    code, token = db.create_atelier("Atelier Loire")
    assert db.space(code, kind="prive", editable=True).tables() == []  # codes never cross
    assert db.atelier(code.lower())["name"] == "Atelier Loire"
    assert db.can_edit(code, token) and not db.can_edit(code, token[:-1] + "x")
    assert not db.can_edit(code, None) and not db.can_edit("ZZZZZZ", token)
    editor = db.space(code, editable=True)
    editor.save_table("Partagé", "region", _frame(1), {})
    reader = db.space(code)
    assert [t["nom"] for t in reader.tables()] == ["Partagé"]
    for write in (
        lambda: reader.save_table("X", "region", _frame(1), {}),
        lambda: reader.delete("partage"),
        lambda: reader.rename("partage", "Y"),
        lambda: reader.set_active_perimeters(None),
        lambda: reader.add_view("Vue", "", "", {}),
    ):
        with pytest.raises(ReadOnlyError, match="lecture seule"):
            write()
    assert [t["nom"] for t in reader.tables()] == ["Partagé"]
    new_token = db.new_edit_token(code)
    assert db.can_edit(code, new_token) and not db.can_edit(code, token)


def test_perimeter_sets_and_active_choice_are_per_space(db):
    code_a, _ = db.create_atelier("A")
    code_b, _ = db.create_atelier("B")
    a, b = db.space(code_a, editable=True), db.space(code_b, editable=True)
    slug = a.save_perimeters("Alliances", b"code;nom\n", "a.csv", "utilisateur", content_hash="h1")
    assert a.active_perimeters()["hash"] == "h1" and b.active_perimeters() is None
    source, meta = a.perimeter_source(slug)
    assert source == b"code;nom\n" and meta["fichier"] == "a.csv"
    b.set_active_perimeters(None)  # back to the default set
    assert b.active_perimeters() is None and a.active_perimeters()["slug"] == slug
    a.delete_perimeters(slug)
    assert a.active_perimeters() is None and a.perimeter_sets() == []


def test_parcours_keeps_its_order(db):
    code, _ = db.create_atelier("Parcours")
    space = db.space(code, editable=True)
    first = space.add_view("Chômage", "Le point de départ", "", {"indicateur": "chomage"})
    second = space.add_view("Fiche", "", "fiche", {"territoire": "42218"})
    third = space.add_view("Régions", "", "regions", {})
    space.move_view(third, -1)
    assert [v["id"] for v in space.views()] == [first, third, second]
    assert space.views()[0]["parametres"] == {"indicateur": "chomage"}
    space.delete_view(first)
    assert [v["numero"] for v in space.views()] == [1, 2]
    with pytest.raises(StorageError):
        space.add_view("  ", "", "", {})


def _race(db_url: str, writers: int, save) -> list:
    """Run ``save(space, i)`` in parallel threads (own connections); returns the outcomes."""
    barrier = threading.Barrier(writers)
    outcomes: list = [None] * writers

    def run(i: int) -> None:
        space = Database(db_url).space("atelier-race", kind="prive", editable=True)
        barrier.wait()
        try:
            outcomes[i] = save(space, i)
        except ConflictError as err:
            outcomes[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_saves_of_one_name_one_wins_whole(database_url):
    db = Database(database_url)
    space = db.space("atelier-race", kind="prive", editable=True)
    for round_ in range(5):
        expected = space.table_version("meme_nom")
        outcomes = _race(
            database_url,
            4,
            lambda s, i, e=expected, r=round_: s.save_table(
                "Même nom", "region", _frame(10 * r + i), {"marker": 10 * r + i}, expected=e
            ),
        )
        winners = [i for i, o in enumerate(outcomes) if o == "meme_nom"]
        losers = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(winners) == 1 and len(losers) == 3, outcomes
        assert all("rien n'a été écrit" in err.message for err in losers)
        meta, values = space.load_table("meme_nom")
        assert meta["marker"] == 10 * round_ + winners[0]
        assert values["marker"].eq(meta["marker"]).all()


def test_reads_during_concurrent_saves_and_deletes_are_whole(database_url):
    db = Database(database_url)
    space = db.space("atelier-race", kind="prive", editable=True)
    space.save_table("Lu", "region", _frame(0), {"marker": 0})
    stop = time.monotonic() + 3
    problems: list = []

    def writer(offset: int) -> None:
        mine = Database(database_url).space("atelier-race", kind="prive", editable=True)
        n = offset
        while time.monotonic() < stop:
            n += 2
            try:
                if n % 7 == 0:
                    mine.delete("lu")
                else:
                    version = mine.table_version("lu")
                    mine.save_table("Lu", "region", _frame(n), {"marker": n}, expected=version)
            except ConflictError:
                pass

    def reader() -> None:
        mine = Database(database_url).space("atelier-race", kind="prive", editable=True)
        reads = 0
        while time.monotonic() < stop:
            try:
                mine.tables()
                meta, values = mine.load_table("lu")
            except StorageError:
                continue  # deleted in between: told, never a half record
            except Exception as err:  # noqa: BLE001 - any other error is a failure
                problems.append(err)
                return
            reads += 1
            if not values["marker"].eq(meta["marker"]).all():
                problems.append(("torn", meta["marker"], values["marker"].iloc[0]))
        problems.append(("reads", reads))

    threads = [threading.Thread(target=writer, args=(i,)) for i in (0, 1)]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p for p in problems if p[0] != "reads"] == []
    assert problems[-1][1] > 10  # the reader really read while the writers wrote


def _saver(database_url: str, n: int, ready) -> None:
    """Save two tables and a perimeter set, again and again, until killed."""
    space = Database(database_url).space("tue", kind="prive", editable=True)
    codes = [f"{i:05d}" for i in range(20000)]
    while True:
        n += 1
        frame = pd.DataFrame({"marker": [float(n)] * len(codes)}, index=codes)
        for name, slug in (("Tableau A", "tableau_a"), ("Tableau B", "tableau_b")):
            version = space.table_version(slug)
            space.save_table(name, "commune", frame, {"marker": n}, expected=version)
        sets = space.perimeter_sets()
        space.save_perimeters(
            "Jeu", str(n).encode() * 5000, "jeu.csv", "utilisateur", content_hash=str(n),
            expected=sets[0]["version"] if sets else None,
        )  # fmt: skip
        ready.set()


def test_kill_9_during_saves_never_leaves_a_partial_record(database_url):
    """A forked process (modules already imported: cheap) is SIGKILLed during its saves."""
    db = Database(database_url)
    space = db.space("tue", kind="prive", editable=True)
    rng = random.Random(14)
    forking = multiprocessing.get_context("fork")
    start = 0
    for repeat in range(KILL_REPEATS):
        ready = forking.Event()
        child = forking.Process(target=_saver, args=(database_url, start, ready), daemon=True)
        child.start()
        assert ready.wait(60), "the saving process did not save"
        time.sleep(rng.uniform(0.0, 0.15))
        child.kill()  # SIGKILL, in the middle of some save
        child.join()
        assert child.exitcode == -signal.SIGKILL
        for slug in ("tableau_a", "tableau_b"):
            meta, values = space.load_table(slug)
            assert len(values) == 20000, (repeat, slug)
            assert values["marker"].eq(meta["marker"]).all(), (repeat, slug)
        source, meta = space.perimeter_source("jeu")
        assert source == meta["hash"].encode() * 5000, repeat
        start = max(m["marker"] for m in space.tables()) + 1
    assert start > KILL_REPEATS  # saves really happened between the kills


def test_old_workspace_folder_is_imported_once(db, tmp_path):
    folder = Workspace(tmp_path / "ws")
    folder.save_table("Ancien", "departement", _frame(5), {"rapport": {"matched": 3}})
    folder.save_perimeters("Jeu ancien", b"code;nom\n1;A\n", "ancien.csv", "utilisateur",
                           content_hash="abc")  # fmt: skip
    from territorial.storage import import_workspace

    code, token = import_workspace(db, tmp_path / "ws")
    assert import_workspace(db, tmp_path / "ws") is None  # once only
    assert db.atelier(code)["name"] == "Espace de travail importé" and db.can_edit(code, token)
    space = db.space(code)
    meta, values = space.load_table("ancien")
    assert meta["rapport"] == {"matched": 3} and values["marker"].eq(5).all()
    assert space.active_perimeters()["hash"] == "abc"
    assert space.perimeter_source("jeu_ancien")[0] == b"code;nom\n1;A\n"
    assert import_workspace(db, tmp_path / "absent") is None


def test_old_private_spaces_are_purged_and_their_records_with_them(db):
    old = db.space("ancienne-session", kind="prive", editable=True)
    old.save_table("Oublié", "region", _frame(1), {})
    old.add_view("Vue", "", "", {})
    recent = db.space("session-en-cours", kind="prive", editable=True)
    recent.save_table("Gardé", "region", _frame(1), {})
    code, _ = db.create_atelier("Atelier ancien")
    with db.write() as conn:
        conn.execute(
            update(spaces)
            .where(spaces.c.code.in_(["ancienne-session", code]))
            .values(
                updated_at=now() - dt.timedelta(days=8), created_at=now() - dt.timedelta(days=8)
            )
        )
    assert db.purge_private() == 1
    assert old.tables() == [] and old.views() == [] and old.version() == "vide"
    assert [t["nom"] for t in recent.tables()] == ["Gardé"]
    assert db.atelier(code) is not None  # ateliers are never purged
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(tables)).scalar() == 1


def test_an_older_schema_is_migrated_at_start(db):
    space = db.space("avant", kind="prive", editable=True)
    space.save_table("Avant", "region", _frame(1), {})
    with db.write() as conn:  # back to schema 1: no updated_at column
        conn.exec_driver_sql("ALTER TABLE spaces DROP COLUMN updated_at")
        conn.execute(update(settings).where(settings.c.key == "schema_version").values(value="1"))
    db.engine.dispose()
    again = Database(db.url)
    assert again.setting("schema_version") == "2"
    space = again.space("avant", kind="prive", editable=True)
    space.save_table("Après", "region", _frame(2), {})  # writes updated_at
    assert [t["nom"] for t in space.tables()] == ["Après", "Avant"]


def test_a_newer_schema_is_refused(db):
    with db.write() as conn:
        conn.execute(update(settings).where(settings.c.key == "schema_version").values(value="99"))
    with pytest.raises(StorageError, match="plus récent"):
        Database(db.url)


def test_cli_lists_ateliers_and_issues_a_new_edit_link(database_url, monkeypatch, cli_json):
    db = Database(database_url)
    code, token = db.create_atelier("Atelier CLI")
    monkeypatch.setenv("TERRITORIAL_DATABASE_URL", database_url)
    assert [a["code"] for a in cli_json("ateliers")] == [code]
    fresh = cli_json("ateliers", "--nouveau-lien", code.lower())
    new_token = fresh["lien_edition"].split("&cle=")[1]
    assert db.can_edit(code, new_token) and not db.can_edit(code, token)
