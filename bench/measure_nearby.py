"""A local measurement of the nearby search with many shops (not a test; not timed in CI).

    DATABASE_URL=mysql://root@127.0.0.1:3306/alliance_nearby \
        .venv/bin/python -m bench.measure_nearby --shops 100000 --threads 16 --queries 4000

Fills an EMPTY database (migrated here) with merchants and shops spread over a
Shanghai-sized area, then runs nearest-first (and filtered) searches from random points on
``--threads`` threads and prints latency percentiles of the service call.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time

from alliance.db import connection, db, init_db, transaction
from alliance.merchants.browse import list_merchants
from alliance.merchants.identifiers import credit_code_check_char
from alliance.merchants.industries import INDUSTRIES
from alliance.merchants.models import Merchant, Shop
from alliance.migrate import migrate

CENTRE = (31.2304, 121.4737)
SPREAD = (0.30, 0.35)  # degrees: about 66 km x 66 km


def fill(shops: int, per_merchant: int) -> None:
    from alliance.accounts.models import User

    rng = random.Random(7)
    with transaction():
        owner = User.create(nickname="bench")
    industries = list(INDUSTRIES)
    merchants = shops // per_merchant
    for start in range(0, merchants, 2000):
        rows = []
        for n in range(start, min(start + 2000, merchants)):
            first17 = f"91310101MB{n:07d}"
            rows.append(dict(name=f"商户{n}", company_name="bench", industry=rng.choice(industries),
                             credit_code=first17 + credit_code_check_char(first17),
                             legal_rep_name="x", legal_rep_id_cipher="x", legal_rep_id_hash="x",
                             legal_rep_id_masked="x", licence_upload="x", id_front_upload="x",
                             id_back_upload="x", contact_phone="x", owner=owner.id,
                             status="approved", popularity=rng.randint(0, 1000)))
        with transaction():
            Merchant.insert_many(rows).execute()
    ids = [m.id for m in Merchant.select(Merchant.id)]
    for start in range(0, shops, 5000):
        rows = [dict(merchant=ids[n % len(ids)], name=f"门店{n}", address="上海",
                     lat=CENTRE[0] + rng.uniform(-SPREAD[0], SPREAD[0]),
                     lng=CENTRE[1] + rng.uniform(-SPREAD[1], SPREAD[1]), listed=True)
                for n in range(start, min(start + 5000, shops))]
        with transaction():
            Shop.insert_many(rows).execute()


def run(threads: int, queries: int) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = queries // threads

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        for n in range(per_thread):
            lat = CENTRE[0] + rng.uniform(-SPREAD[0], SPREAD[0])
            lng = CENTRE[1] + rng.uniform(-SPREAD[1], SPREAD[1])
            industry = rng.choice(list(INDUSTRIES)) if n % 4 == 0 else None
            began = time.perf_counter()
            with connection():
                page = list_merchants(lat=lat, lng=lng, industry=industry, limit=20)
                if n % 8 == 0 and page["next_cursor"]:
                    list_merchants(lat=lat, lng=lng, industry=industry, limit=20,
                                   cursor=page["next_cursor"])
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shops", type=int, default=100_000)
    parser.add_argument("--per-merchant", type=int, default=4)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--queries", type=int, default=4000)
    args = parser.parse_args()
    init_db(os.environ["DATABASE_URL"], max_connections=args.threads + 2)
    with connection():
        migrate()
        if not Shop.select().exists():
            fill(args.shops, args.per_merchant)
        count = Shop.select().count()
    began, cpu = time.perf_counter(), time.process_time()
    latencies = sorted(run(args.threads, args.queries))
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"{count} shops, {len(latencies)} searches on {args.threads} threads in {elapsed:.1f} s "
          f"({len(latencies) / elapsed:.0f}/s): p50 {pick(0.5):.1f} ms, p95 {pick(0.95):.1f} ms, "
          f"p99 {pick(0.99):.1f} ms, mean {statistics.mean(latencies):.1f} ms; "
          f"{cpu * 1000 / len(latencies):.1f} ms of this process's CPU per search")
    db.obj.close_all()


if __name__ == "__main__":
    main()
