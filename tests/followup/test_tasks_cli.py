"""`ivr tasks list|close` against a database the real writer filled."""

from __future__ import annotations

from click.testing import CliRunner

from ivr.commands.tasks import command
from ivr.store import keys
from ivr.store.db import database_url, make_engine, make_session_factory, upgrade_database
from queue_worker.followup import FollowupHook
from queue_worker.outcomes import drain_events
from tests.pg_schemas import same_database
from tests.store.test_followup_tasks import RULES, scripted_calls


def test_list_and_close_from_the_terminal(redis, redis_url, tmp_path):
    from ivr.commands import tasks as tasks_command

    tasks_command._engine.cache_clear()
    url = database_url(same_database() or None, tmp_path)
    upgrade_database(url)
    engine = make_engine(url)
    scripted_calls(redis)
    drain_events(redis, make_session_factory(engine), hooks=[FollowupHook(RULES)])
    engine.dispose()
    env = {"IVR_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": same_database()}
    runner = CliRunner()
    listed = runner.invoke(command, ["list"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = [line.split("\t") for line in listed.output.splitlines() if "\t" in line]
    assert [r[6] for r in rows] == ["callback_failed", "abandoned_after_wait",
                                    "low_satisfaction", "voicemail"]
    first = rows[0][0]
    refused = runner.invoke(command, ["close", first, "--disposition", " "], env=env)
    assert refused.exit_code == 2
    assert "closing needs a disposition" in refused.output
    summary = keys.caller_summary("+14155550105")  # the failed callback's caller
    redis.delete(summary)
    done = runner.invoke(command, ["close", first, "--disposition", "called_back", "--by",
                                   "sue"], env={**env, "REDIS_URL": redis_url})
    assert done.exit_code == 0, done.output
    assert "closed task" in done.output
    assert redis.exists(summary)  # the caller's summary for flows counts open tasks
    still = runner.invoke(command, ["list", "--team", "sales"], env=env)
    assert [line.split("\t")[6] for line in still.output.splitlines() if "\t" in line] == [
        "abandoned_after_wait"]
    closed = runner.invoke(command, ["list", "--status", "closed"], env=env)
    assert closed.output.splitlines()[0].split("\t")[0] == first


def test_backfill_applies_the_rules_to_recent_calls_once_without_texts(redis, tmp_path):
    from ivr.commands import tasks as tasks_command

    tasks_command._engine.cache_clear()  # the command caches its engine per process
    url = database_url(same_database() or None, tmp_path)
    upgrade_database(url)
    engine = make_engine(url)
    scripted_calls(redis)
    drain_events(redis, make_session_factory(engine))  # written before the rules existed
    env = {"IVR_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": same_database()}
    runner = CliRunner()
    first = runner.invoke(command, ["backfill", "--since", "2d"], env=env)
    assert first.output.splitlines()[-1] == "5 calls evaluated, 4 tasks opened", first.output
    again = runner.invoke(command, ["backfill", "--since", "2d"], env=env)
    assert again.output.splitlines()[-1] == "5 calls evaluated, 0 tasks opened"
    assert runner.invoke(command, ["backfill", "--since", "2"], env=env).exit_code == 2
    with make_session_factory(engine)() as session:
        from ivr.store.tasks import list_tasks

        found = list_tasks(session)
        assert {t.rule for t in found} == {"callback_failed", "abandoned_after_wait",
                                           "low_satisfaction", "voicemail"}
        assert {t.sms_status for t in found} == {None}  # no text about an old call
    engine.dispose()
    tasks_command._engine.cache_clear()
