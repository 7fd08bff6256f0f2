"""Real worker processes: killed between send and record, two sharing PostgreSQL, wake-up."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.models import OutboundMessage
from tests.automations.conftest import WA, drain, inbound, sends
from tests.delivery.processes import start_worker
from tests.leads.meta import messages_change, post


def real_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def wait_for(predicate, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_worker_killed_between_send_and_record_sends_once(
    web, db, cloud, make_runner, auto_settings, tmp_path
) -> None:
    inbound(web, "open?", at=real_now())
    clock.set_now(None)
    cloud.hold.clear()  # Meta has the request but has not answered yet
    proc = start_worker(auto_settings, tmp_path, "--poll", "0.05", log=tmp_path / "w.log")
    try:
        assert wait_for(lambda: cloud.requests), (tmp_path / "w.log").read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
        cloud.hold.set()
    [send] = sends(db)
    assert send.status == "sending" and send.wamid is None
    clock.set_now(real_now() + timedelta(minutes=5))  # the dead worker's lease ran out
    drain(make_runner)
    drain(make_runner)
    [send] = sends(db)
    assert send.status == "unconfirmed"
    assert len(cloud.requests) == 1, "an unconfirmed send must never be posted again"
    # Meta's status webhook names our send (biz_opaque_callback_data): it is reconciled
    callback = cloud.requests[0].body["biz_opaque_callback_data"]
    item = {
        "id": "wamid.AFTERCRASH",
        "status": "sent",
        "timestamp": str(int(real_now().timestamp())),
        "recipient_id": WA,
        "biz_opaque_callback_data": callback,
    }
    assert post(web, messages_change({"statuses": [item]})).status_code == 200
    [send] = sends(db)
    assert (send.status, send.wamid, send.meta_status) == ("sent", "wamid.AFTERCRASH", "sent")
    with db.session() as session:
        assert session.get(OutboundMessage, "wamid.AFTERCRASH") is not None


def test_two_worker_processes_reply_once_each(web, db, cloud, auto_settings, tmp_path) -> None:
    if not db.is_postgresql:
        pytest.skip("several workers share a database on PostgreSQL (SKIP LOCKED)")
    start = real_now()
    contacts = [f"55119{i:08d}" for i in range(300)]
    for i, wa_id in enumerate(contacts):
        inbound(web, "are you open?", wa_id=wa_id, message_id=f"wamid.m{i}", at=start)
    clock.set_now(None)
    cloud.latency = 0.01
    args = ("--poll", "0.05", "--drain")
    procs = [
        start_worker(auto_settings, tmp_path, *args, log=tmp_path / f"w{i}.log") for i in (1, 2)
    ]
    try:
        for proc in procs:
            assert proc.wait(timeout=120) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    seen = Counter(body["to"] for body in cloud.bodies())
    assert set(seen) == set(contacts) and max(seen.values()) == 1
    rows = sends(db)
    assert len(rows) == 300 and {s.status for s in rows} == {"sent"}
    owners = Counter(s.lease_owner for s in rows)
    print(f"\n300 replies, two worker processes: split {dict(owners)}")
    assert cloud.shape_errors == []


@pytest.mark.parametrize("poll", [0.1])
def test_a_running_worker_replies_within_two_seconds(web, db, cloud, make_runner, poll) -> None:
    runner = make_runner(poll_interval=poll, idle_interval=30.0)  # PostgreSQL: only NOTIFY wakes it
    runner.start()
    try:
        time.sleep(0.3)  # idle, waiting
        delays = []
        for i in range(3):
            inbound(
                web,
                "open?",
                wa_id=f"5511800000{i:02d}",
                message_id=f"wamid.w{i}",
                at=real_now() - timedelta(seconds=1),
            )
            clock.set_now(None)
            answered = time.monotonic()
            assert wait_for(lambda i=i: len(cloud.received_at) > i, 5.0)
            delays.append(cloud.received_at[i] - answered)
    finally:
        runner.stop()
        runner.join(10)
    assert max(delays) < 2.0, delays
    with db.session() as session:
        assert len(session.scalars(select(OutboundMessage)).all()) == 3
