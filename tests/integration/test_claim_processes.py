"""Claims from two processes at once (as two server processes take them): the stock is
never oversold and every user gets at most their one coupon."""
import json
import os
import subprocess
import sys
from pathlib import Path

from alliance.coupons.models import Coupon, CouponTemplate
from alliance.db import connection
from tests.factories import make_merchant, make_template, make_user

ROOT = Path(__file__).resolve().parents[2]
STOCK, USERS = 30, 60

# Each process claims for every user from 8 threads: each user tries twice at once.
CLAIMER = """
import json, sys, threading
from alliance.db import init_db
from alliance.coupons import claims
from alliance.errors import AllianceError

init_db(sys.argv[1])
template_id, users = int(sys.argv[2]), json.loads(sys.argv[3])
codes, lock, start = [], threading.Lock(), threading.Barrier(8)

def run(i):
    start.wait()
    for user_id in users[i::8]:
        try:
            claims.claim(template_id, user_id)
            code = "201"
        except AllianceError as exc:
            code = exc.code
        with lock:
            codes.append(code)

threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(codes))
"""


def test_two_processes_claiming_never_oversell_nor_double_issue(database):
    with connection():
        template = make_template(make_merchant(), total_stock=STOCK)
        users = [make_user().id for _ in range(USERS)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", CLAIMER, database, str(template.id),
                                   json.dumps(users)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    answers = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        answers += json.loads(out)
    assert answers.count("201") == STOCK
    assert set(answers) <= {"201", "COUPON_SOLD_OUT", "COUPON_LIMIT_REACHED"}
    with connection():
        holders = [c.user_id for c in Coupon.select().where(Coupon.template == template.id)]
        assert len(holders) == STOCK and len(set(holders)) == STOCK
        assert CouponTemplate.get_by_id(template.id).issued == STOCK
