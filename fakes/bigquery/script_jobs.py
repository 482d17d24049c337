"""Query jobs beyond one plain statement, as BigQuery runs them.

* A multi-statement script is a parent job whose statements run as child jobs: each child has
  ``statistics.parentJobId`` and ``scriptStatistics`` (where the statement is in the script), the
  parent ``numChildJobs``, and the parent answers with the last SELECT's rows (``SCRIPT``).
  ``jobs.list`` with ``parentJobId`` reads them from the job store (:meth:`QueryRunner.children`).
* A query in a session (:mod:`fakes.bigquery.sessions`) runs on the session's script state, and
  every job of the session reports ``statistics.sessionInfo``.
* ``CALL BQ.ABORT_SESSION([id])`` terminates a session.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from sqlglot import exp

from fakes.bigquery import scripts
from fakes.bigquery.deadlines import job_timeout_ms
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import NoSessionToAbort, UnsupportedByFake
from fakes.bigquery.script_syntax import Statement, is_script, parse_script
from fakes.bigquery.scripts import ScriptRun
from fakes.bigquery.sessions import SessionStore, session_property
from fakes.bigquery.time_zone import connection_time_zone
from harness.ports import QueryResult, WarehouseError

_ABORT = re.compile(
    r"""(?is)^\s*CALL\s+BQ\s*\.\s*ABORT_SESSION\s*\(\s*(?:(['"])(?P<id>[^'"]*)\1)?\s*\)\s*;?\s*$"""
)

StatementHook = Callable[[str, QueryResult | None, WarehouseError | None], None]


class Job(Protocol):
    """What this module reads and writes of a stored job (:class:`fakes.bigquery.models.Job`)."""

    project: str
    job_id: str | None
    location: str
    configuration: dict[str, Any]
    statistics: dict[str, Any]
    result: QueryResult | None
    error: WarehouseError | None


class JobStore(Protocol):
    """The job store the runner records child jobs in (:class:`fakes.bigquery.models.JobStore`)."""

    engine: BigQueryEngine

    def create(
        self, project: str, configuration: dict[str, Any], job_id: str | None, location: str
    ) -> Job: ...

    def in_project(self, project: str) -> Sequence[Job]: ...


@dataclass
class JobScriptRun(ScriptRun):
    """A script run that reports each SQL statement it runs (the child jobs), answers
    ``BQ.ABORT_SESSION`` and reads ``_SESSION.table`` as the session's temporary table."""

    on_statement: StatementHook | None = None
    on_abort: Callable[[str | None], None] | None = None

    def sql(self, text: str) -> None:
        abort = _ABORT.match(text)
        if abort is not None:
            if self.on_abort is None:
                raise NoSessionToAbort()
            self.on_abort(abort.group("id") or None)
            self.last = QueryResult(rows=[], statement_type="CALL")
            self._report(text, self.last, None)
            return
        previous = self.last
        try:
            super().sql(text)
        except WarehouseError as exc:
            self._report(text, None, exc)
            raise
        done = self.last if self.last is not previous else None
        self._report(text, done or QueryResult(rows=[], statement_type=_statement_type(text)), None)

    def _report(self, text: str, result: QueryResult | None, error: WarehouseError | None) -> None:
        if self.on_statement is not None:
            self.on_statement(text, result, error)

    def _resolve_name(self, node: exp.Expression, params: dict[str, Any]) -> exp.Expression:
        if (
            isinstance(node, exp.Table)
            and node.db.upper() == "_SESSION"
            and not node.args.get("catalog")
            and node.name.lower() in self.temp_tables
        ):
            node.set("db", exp.to_identifier(self.temp_dataset))
            return node
        return super()._resolve_name(node, params)


class QueryRunner:
    """Runs a stored query job's SQL: plain statements on the engine, scripts as parent and child
    jobs, session queries on their session."""

    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs
        self.sessions = SessionStore(jobs.engine.clock)

    def run(self, job: Job, sql: str, params: dict[str, Any], default_dataset: str | None) -> QueryResult:
        query_config = job.configuration.get("query") or {}
        time_zone = connection_time_zone(query_config.get("connectionProperties"))
        engine = self.jobs.engine

        def new_run() -> JobScriptRun:
            return JobScriptRun(engine, job.project, default_dataset, dict(params), time_zone=time_zone)

        session = self.sessions.for_query(job.project, query_config, new_run)
        multi = is_script(sql) and not _functions_then_select(sql)
        if session is None and not is_script(sql) and _ABORT.match(sql) is None:
            return engine.query(
                job.project,
                sql,
                params,
                default_dataset=default_dataset,
                time_zone=time_zone,
                job_timeout_ms=job_timeout_ms(job.configuration),
                cancellation=job.cancellation,
            )
        if session is not None:
            job.statistics["sessionInfo"] = {"sessionId": session.session_id}
            session.run.system["session_id"] = session.session_id  # @@session_id
        run = session.run if session is not None else new_run()
        assert isinstance(run, JobScriptRun)
        current = session.session_id if session is not None else None
        with session.lock if session is not None else nullcontext():
            run.params, run.default_dataset, run.time_zone = dict(params), default_dataset, time_zone
            run.on_abort = lambda named: self._abort(named or current)
            try:
                result = self._script(job, run, sql) if multi else self._single(run, sql)
            finally:
                run.on_abort = None
                if session is None:
                    run.close()
        return result

    @staticmethod
    def check_dry_run(query_config: Mapping[str, Any]) -> None:
        """A dry run does not see a session's state here: refused, naming the field, rather than
        estimated against the wrong tables."""
        if query_config.get("createSession") or session_property(query_config.get("connectionProperties")):
            raise UnsupportedByFake(
                "The emulator does not dry-run queries in a session (createSession / connectionProperties "
                "session_id)",
                reason="invalid",
            )

    def _abort(self, session_id: str | None) -> None:
        if session_id is None:
            raise NoSessionToAbort()
        self.sessions.abort(session_id)

    @staticmethod
    def _single(run: JobScriptRun, sql: str) -> QueryResult:
        """One statement (in a session, or a SELECT after temporary functions): its own result
        and statement type, not a script's."""
        result = scripts.execute(run, sql)
        return run.last if run.last is not None else result

    def _script(self, job: Job, run: JobScriptRun, sql: str) -> QueryResult:
        query_config = job.configuration.get("query") or {}
        base = uuid.uuid4().hex
        children: list[Job] = []

        def record(text: str, result: QueryResult | None, error: WarehouseError | None) -> None:
            inherited = {key: value for key, value in query_config.items() if key != "createSession"}
            outer = {
                key: value for key, value in job.configuration.items() if key not in ("query", "jobType")
            }
            child = self.jobs.create(
                job.project,
                {**outer, "query": {**inherited, "query": text}},
                f"script_job_{base}_{len(children)}",
                job.location,
            )
            child.result = result
            child.error = error
            child.statistics.update(
                {
                    "parentJobId": job.job_id,
                    "scriptStatistics": {"evaluationKind": "STATEMENT", "stackFrames": [_frame(sql, text)]},
                }
            )
            if "sessionInfo" in job.statistics:
                child.statistics["sessionInfo"] = job.statistics["sessionInfo"]
            children.append(child)

        run.on_statement = record
        run.system["script.job_id"] = job.job_id  # @@script.job_id
        try:
            return scripts.execute(run, sql)
        finally:
            run.on_statement = None
            job.statistics["numChildJobs"] = str(len(children))

    def children(self, project: str, parent_job_id: str) -> list[Job]:
        """The child jobs of a script job, in the order they ran."""
        return [
            job for job in self.jobs.in_project(project) if job.statistics.get("parentJobId") == parent_job_id
        ]


def _frame(sql: str, text: str) -> dict[str, Any]:
    """Where ``text`` is in the script: one-based lines and columns, as ``ScriptStackFrame``."""
    frame: dict[str, Any] = {"text": text}
    start = sql.find(text)
    if start < 0:
        return frame
    end = start + max(len(text) - 1, 0)
    for side, offset in (("start", start), ("end", end)):
        frame[f"{side}Line"] = sql.count("\n", 0, offset) + 1
        frame[f"{side}Column"] = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return frame


def _functions_then_select(sql: str) -> bool:
    """``CREATE TEMP FUNCTION`` statements and one SELECT: not a multi-statement query for
    BigQuery (its documentation, multi-statement-queries), so no child jobs and a SELECT result."""
    try:
        statements = parse_script(sql)
    except WarehouseError:
        return False
    *functions, last = statements or [Statement("NONE")]
    return (
        last.kind == "SQL"
        and bool(re.match(r"(?is)^\s*(SELECT|WITH|\()", last.text))
        and all(
            s.kind == "SQL"
            and re.match(r"(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?TEMP(ORARY)?\s+FUNCTION\b", s.text)
            for s in functions
        )
    )


def _statement_type(text: str) -> str:
    """The statement type of a statement that returned nothing (a temporary function's DDL)."""
    words = text.upper().split()
    if words[:1] in (["CREATE"], ["DROP"]) and "FUNCTION" in words[:6]:
        return f"{words[0]}_FUNCTION"
    return words[0] if words else "SCRIPT"
