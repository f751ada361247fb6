"""`python -m benchmarks web [--quick]`: the inbox's pages under concurrent users.

On a generated database (100,000 messages in 40,000 threads; --quick: 10,000 in
4,000) on SQLite and PostgreSQL, uvicorn serves the app with two workers and `wrk`
(Debian's HTTP load tool) sends requests from 8 concurrent users for each page: a
folder's thread list (first and a deep page), a thread view, a contact page, and a
search. The table gives the app's own time per request (Server-Timing) at p50/p95,
and the latency wrk saw. Aims: thread list and contact page p95 < 50 ms, thread
view < 100 ms, search < 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

import sqlalchemy as sa

from benchmarks._web_data import TOPICS, generate
from benchmarks.report import print_json, print_table
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import get_engine, session_factory
from mailservice.inbox.thread_list import folder_threads
from mailservice.users.service import add_user, grant_account
from mailservice.users.sessions import start_session

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".bench" / "web"
LUA = Path(__file__).with_name("_web_load.lua")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AIMS = {
    "thread list": 50,
    "thread list, deep page": 50,
    "thread view": 100,
    "contact page": 50,
    "search": 200,
}


HEADERS = ["db", "request", "requests", "req/s", "server p50 ms", "server p95 ms",
           "wrk p50 ms", "wrk p95 ms", "cpu ms/req", "aim p95 ms", "met"]


def main(argv: list[str]) -> int:
    """Run the benchmark; prints the table, then one JSON line."""
    args = _arguments(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (bash scripts/bootstrap.sh --test)")
        return 1
    messages, threads = (10_000, 4_000) if args.quick else (args.messages, args.threads)
    rows, figures = [], {"messages": messages, "threads": threads}
    for database in args.databases:
        url, drop = _fresh_database(database)
        try:
            paths, cookie, load_seconds = _prepare(url, messages, threads)
            figures[f"{database}_load_s"] = round(load_seconds, 1)
            for name, result in _measure(url, paths, cookie, args):
                rows.append([database, name, *result, AIMS[name],
                             "yes" if result[3] < AIMS[name] else "NO"])
                for key, value in zip(("p50_ms", "p95_ms", "cpu_ms"),
                                      (result[2], result[3], result[6])):
                    figures[f"{database}:{name}:{key}"] = value
        finally:
            drop()
    print_table(HEADERS, rows)
    print_json(figures)
    return 0


def _measure(url, paths, cookie, args):
    seconds = args.seconds or (3 if args.quick else 10)
    port = _free_port()
    server = _serve(url, port)
    try:
        for name, choices in paths.items():
            yield name, _load(server, port, name, choices, cookie, seconds,
                              args.connections)
    finally:
        server.terminate()
        server.wait(10)


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks web")
    parser.add_argument("--quick", action="store_true", help="10,000 messages, 3 s")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=40_000)
    parser.add_argument("--seconds", type=int, default=0, help="per request type")
    parser.add_argument(
        "--connections",
        type=int,
        default=4,
        help="concurrent users (4, as in the Roundcube peer figures)",
    )
    parser.add_argument(
        "--db", dest="databases", action="append", choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args(argv)
    args.databases = args.databases or ["sqlite", "postgresql"]
    return args


def _fresh_database(kind: str):
    if kind == "sqlite":
        WORK.mkdir(parents=True, exist_ok=True)
        for old in WORK.glob("bench.db*"):
            old.unlink()
        url = f"sqlite:///{WORK / 'bench.db'}"
        return url, lambda: get_engine(url).dispose()
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = "ms_bench_web"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(False)

    def drop():
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
        admin.dispose()

    return url, drop


def _prepare(url: str, messages: int, threads: int):
    started = time.perf_counter()
    upgrade_database(url)
    session = session_factory(url)()
    made = generate(session, messages, threads, contacts=max(threads // 20, 50))
    staff = add_user(session, "ola@firma.test", "benchmark password", role="staff")
    from mailservice.accounts.models import Account

    grant_account(session, staff, session.get(Account, 1))
    cookie, _ = start_session(session, staff, ip="127.0.0.1", user_agent="wrk")
    session.commit()
    paths = _paths(session, made)
    session.close()
    return paths, cookie, time.perf_counter() - started


def _paths(session, made) -> dict[str, list[str]]:
    rng = random.Random(7)
    inbox = made["inbox"]
    deep = folder_threads(session, inbox, None, size=1000).next_cursor
    words = made["words"]
    # Half: a topic word (common) and a word prefix; half: one rarer word.
    searches = [
        f"/search?q={quote_plus(rng.choice(TOPICS))}+{rng.choice(words)[:4]}"
        for _ in range(200)
    ] + [f"/search?q={rng.choice(words)}" for _ in range(200)]
    return {
        "thread list": [f"/folders/{inbox}"],
        "thread list, deep page": [f"/folders/{inbox}?after={deep.encode()}"],
        "thread view": [
            f"/threads/{rng.randint(1, made['threads'])}" for _ in range(500)
        ],
        "contact page": [
            f"/contacts/{rng.randint(1, made['contacts'])}" for _ in range(500)
        ],
        "search": searches,
    }


def _load(server, port, name, paths, cookie, seconds, connections):
    paths_file = WORK / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    _wrk(port, paths_file, cookie, 2, connections)  # warm up both workers
    cpu_before = _cpu_seconds(server.pid)
    result = _parse(_wrk(port, paths_file, cookie, seconds, connections), name)
    cpu_ms = (_cpu_seconds(server.pid) - cpu_before) * 1000 / result[0]
    return [*result, round(cpu_ms, 2)]


def _cpu_seconds(master_pid: int) -> float:
    # CPU time of the uvicorn workers (children of the master): what a request
    # costs whatever else the machine is doing, unlike the latencies.
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _wrk(port, paths_file, cookie, seconds, connections) -> str:
    return subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}",
            "--",
            str(paths_file),
            cookie,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout


def _parse(output: str, name: str):
    client = next(line for line in output.splitlines() if line.startswith("CLIENT"))
    requests, micros, p50, p95, failed = client.split()[1:]
    if float(failed):
        raise SystemExit(f"{name}: {failed} requests did not answer 200")
    server = [float(v) for v in output.split("SERVER ", 1)[1].split(",") if v.strip()]
    cuts = statistics.quantiles(server, n=100)
    rate = int(requests) / (int(micros) / 1e6)
    return [
        int(requests),
        round(rate),
        round(cuts[49], 2),
        round(cuts[94], 2),
        round(float(p50), 2),
        round(float(p95), 2),
    ]


def _serve(url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "MAILSERVICE_DATABASE_URL": url,
        "MAILSERVICE_DATA_DIR": str(WORK / "data"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "mailservice.web.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the inbox server did not start")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
