"""``/healthz``: is the app up and does the database answer."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import __version__
from ..db import DatabaseError
from ..errors import AppError
from ..extensions import csrf, get_db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@csrf.exempt
def show():
    """JSON ``{status, database: {ok, round_trip_ms}, version}``; 503 when the DB is down."""
    try:
        round_trip = get_db().ping()
    except (AppError, DatabaseError, RuntimeError, OSError):
        body = {"status": "unavailable", "database": {"ok": False, "round_trip_ms": None},
                "version": __version__}
        return jsonify(body), 503
    body = {"status": "ok", "database": {"ok": True, "round_trip_ms": round(round_trip, 2)},
            "version": __version__}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
