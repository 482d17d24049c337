"""BigQuery sessions: what a query run with ``connectionProperties`` ``session_id`` shares with the
session's other queries.

A job with ``createSession: true`` opens a session and reports its id in
``statistics.sessionInfo.sessionId``; later jobs that name it run on the same script state —
variables (``DECLARE``), temporary functions and ``CREATE TEMP TABLE`` tables (also read as
``_SESSION.name``). ``CALL BQ.ABORT_SESSION()`` (or with an id) terminates a session and drops its
temporary tables; so does the injected clock after 24 hours idle or 7 days, as BigQuery's
documentation states (sessions-terminating). A session's queries run one at a time.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fakes.bigquery.exceptions import SessionNotFound, UnsupportedByFake
from fakes.bigquery.scripts import ScriptRun
from harness.ports import Clock

SESSION_IDLE = timedelta(hours=24)
SESSION_LIFETIME = timedelta(days=7)


@dataclass
class Session:
    session_id: str
    project: str
    run: ScriptRun
    created: datetime
    used: datetime
    lock: threading.RLock = field(default_factory=threading.RLock)


class SessionStore:
    """Open sessions by id; a terminated one is forgotten (and its temporary tables dropped)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def for_query(
        self, project: str, query_config: Mapping[str, Any], new_run: Callable[[], ScriptRun]
    ) -> Session | None:
        """The session a query runs in: a new one for ``createSession``, the one its
        ``session_id`` connection property names, or None (no session)."""
        named = session_property(query_config.get("connectionProperties"))
        if query_config.get("createSession"):
            if named is not None:
                raise UnsupportedByFake(
                    "createSession and a session_id connection property together: the emulator "
                    "runs a query in one session",
                    reason="invalid",
                )
            return self._open(project, new_run())
        if named is None:
            return None
        return self.get(named)

    def _open(self, project: str, run: ScriptRun) -> Session:
        now = self.clock.now()
        session = Session(secrets.token_urlsafe(24), project, run, created=now, used=now)
        with self._lock:
            self._sessions[session.session_id] = session
        return session

    def get(self, session_id: str) -> Session:
        """A live session (its idle time restarts); an unknown or expired one is BigQuery's 400."""
        now = self.clock.now()
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(session_id=session_id)
        if now - session.used > SESSION_IDLE or now - session.created > SESSION_LIFETIME:
            self.abort(session_id)
            raise SessionNotFound(session_id=session_id)
        session.used = now
        return session

    def abort(self, session_id: str) -> None:
        """Terminate a session: its temporary tables are dropped, its id is no longer accepted."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is None:
            raise SessionNotFound(session_id=session_id)
        with session.lock:
            session.run.close()


def session_property(properties: Sequence[Mapping[str, Any]] | None) -> str | None:
    """The ``session_id`` of a job's ``connectionProperties``."""
    for prop in properties or ():
        if isinstance(prop, Mapping) and prop.get("key") == "session_id":
            return str(prop.get("value") or "")
    return None
