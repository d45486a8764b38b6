"""Jobs that keep derived data: profile embeddings, similar-dancer lists, who turned 18."""

from __future__ import annotations

import datetime as dt
import math

from surrealdb import RecordID

from idance_web.jobs import Worker
from idance_web.services import similar
from tests.fixtures.dancers import dancer_with_styles


# -- the embedding job --------------------------------------------------------------------------


def _two_salsa_teachers_and_a_bboy(db, make_user):
    """ann and bea teach salsa, cid breaks; their embeddings written by the worker."""
    dancer_with_styles(db, make_user, "ann", "Salsa teacher in Berlin, weekly classes for beginners.")
    dancer_with_styles(db, make_user, "bea", "I teach salsa classes every week, beginners welcome.")
    make_user("cid")
    with db.member("cid") as s:
        s.query("""UPDATE profile SET bio = 'Breaking crew, battles and cyphers.' WHERE owner = $me;
                   RELATE $me->user_dance_style->dance_style:breaking SET level = 'professional',
                       role = 'both';""", {"me": RecordID("user", "cid")})
    Worker(db).run_due()


def test_a_profile_change_queues_its_embedding_and_the_worker_writes_it(db, make_user):
    dancer_with_styles(db, make_user)
    with db.system() as s:
        queued = s.rows("SELECT VALUE id FROM job WHERE kind = 'embed_profile' AND state = 'queued'")
    assert queued == [RecordID("job", ["embed_profile", RecordID("user", "ann")])]

    outcomes = Worker(db).run_due()

    assert [o.state for o in outcomes] == ["done"]
    vector = similar.embedding_of(db, "ann")
    assert len(vector) == similar.embeddings.dimension()
    assert math.isclose(sum(x * x for x in vector), 1.0, rel_tol=1e-4)
    # Running it again (at-least-once delivery) finds the text unchanged.
    assert similar.embed_profile(db, {"user": RecordID("user", "ann")}) == "unchanged"


def test_the_batch_embedding_job_writes_each_member(db, make_user):
    for name in ("ann", "bea", "cid"):
        dancer_with_styles(db, make_user, name, f"{name} dances salsa")
    with db.member("cid") as s:
        s.query("UPDATE profile SET discoverable = false WHERE owner = user:cid")

    result = similar.embed_profiles(db, [{"user": RecordID("user", k)}
                                         for k in ("ann", "bea", "cid")])

    assert result == {"written": 2, "removed": 1, "unchanged": 0}
    assert similar.embedding_of(db, "bea") is not None and similar.embedding_of(db, "cid") is None
    again = similar.embed_profiles(db, [{"user": RecordID("user", k)} for k in ("ann", "bea")])
    assert again == {"written": 0, "removed": 0, "unchanged": 2}


def test_similar_profiles_get_closer_vectors(db, make_user):
    _two_salsa_teachers_and_a_bboy(db, make_user)
    ann, bea, cid = (similar.embedding_of(db, k) for k in ("ann", "bea", "cid"))

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b))

    assert dot(ann, bea) > dot(ann, cid) + 0.1


def test_similar_lists_hold_the_nearest_members(db, make_user):
    _two_salsa_teachers_and_a_bboy(db, make_user)
    with db.system() as s:  # the embedding jobs queued one delayed refresh
        refresh = s.one("SELECT * FROM ONLY job:['refresh_similar', 'all']")
    assert refresh["state"] == "queued"
    assert (refresh["run_after"] - dt.datetime.now(dt.UTC)).total_seconds() > 30

    assert similar.refresh_similar(db, {}) == 3

    with db.member("ann") as s:
        assert similar.similar_dancers(s, RecordID("user", "ann")) == [
            RecordID("user", "bea"), RecordID("user", "cid")]
        assert similar.similar_dancers(s, RecordID("user", "ann"), limit=1) == [
            RecordID("user", "bea")]


def test_nearest_is_exact():
    import numpy as np

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    got = similar.nearest(vectors, 10)
    for i in (0, 1500, 2999):
        sims = vectors @ vectors[i]
        sims[i] = -np.inf
        assert list(got[i]) == list(np.argsort(-sims)[:10])


def test_hiding_the_profile_removes_its_embedding(db, make_user):
    dancer_with_styles(db, make_user)
    Worker(db).run_due()
    with db.member("ann") as s:
        s.query("UPDATE profile SET discoverable = false WHERE owner = user:ann")
    Worker(db).run_due()
    assert similar.embedding_of(db, "ann") is None


def test_the_worker_writes_embeddings_but_reads_no_private_field(db, make_user):
    dancer_with_styles(db, make_user)
    with db.worker() as s:
        row = s.one("SELECT * FROM profile WHERE owner = user:ann")
        assert row["bio"].startswith("Salsa teacher")
        assert "birth_date" not in row and "measurements" not in row
        assert s.value("RETURN (SELECT VALUE birth_date FROM profile WHERE owner = user:ann)") \
            == [None]
        s.query("UPDATE profile SET bio = 'changed by the worker' WHERE owner = user:ann")
        s.query("UPSERT profile_embedding:ann SET owner = user:ann, profile = $p, "
                "vector = $v, model = 'test', source = 'test'",
                {"p": row["id"], "v": [0.125] * similar.embeddings.dimension()})
    with db.system() as s:
        assert s.value("RETURN (SELECT VALUE bio FROM profile WHERE owner = user:ann)[0]") \
            .startswith("Salsa teacher")
        assert s.value("RETURN (SELECT VALUE model FROM profile_embedding:ann)[0]") == "test"


def test_members_cannot_write_embeddings(db, make_user):
    make_user("ann")
    with db.member("ann") as s:
        s.query("UPSERT profile_embedding:ann SET owner = user:ann, vector = [], model = 'x', "
                "source = 'x'")
    with db.system() as s:
        assert s.value("RETURN record::exists(profile_embedding:ann)") is False


# -- the commands -------------------------------------------------------------------------------


def test_a_member_who_turns_18_is_found_by_the_daily_refresh(db, make_user):
    from idance_web.services import ages

    make_user("teen")
    born = dt.datetime.now(dt.UTC) - dt.timedelta(days=18 * 365 + 10)  # 18 a few days ago
    with db.system() as s:
        s.query("UPDATE profile SET birth_date = $b WHERE owner = user:teen", {"b": born})
        # As if her profile was last written before her birthday: the field's VALUE lifted
        # for a moment, then put back as the migration defines it.
        definition = s.value("INFO FOR TABLE profile")["fields"]["adult"]
        s.query("DEFINE FIELD OVERWRITE adult ON profile TYPE bool DEFAULT false;"
                "UPDATE profile SET adult = false WHERE owner = user:teen;")
        s.query(definition.replace("DEFINE FIELD", "DEFINE FIELD OVERWRITE", 1))
        assert s.value("RETURN (SELECT VALUE adult FROM profile WHERE owner = user:teen)[0]") \
            is False
    assert ages.refresh_adults(db, {}) == 1
    with db.system() as s:
        assert s.value("RETURN (SELECT VALUE adult FROM profile WHERE owner = user:teen)[0]")
        queued = s.one("SELECT * FROM ONLY job:['refresh_adults', 'daily']")
    assert queued["state"] == "queued"
    assert 0 < (queued["run_after"] - dt.datetime.now(dt.UTC)).total_seconds() <= 86400
    assert ages.refresh_adults(db, {}) == 0
