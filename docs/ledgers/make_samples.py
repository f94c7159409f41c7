"""Export a sample 走访记录台账 to xlsx and pdf and render their first pages to PNG, for the
docs. Needs LibreOffice (xlsx → pdf, as Excel would print it) and poppler's pdftoppm:

    apt-get install libreoffice-calc-nogui poppler-utils
    python docs/ledgers/make_samples.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VISITS = [
    (
        "2026-11-03",
        "王秀英",
        "宝石一路8号2单元301",
        "日常走访",
        "独居老人，身体状况良好，生活能够自理；提醒冬季用电用气安全",
        "李明",
    ),
    (
        "2026-11-05",
        "张建国",
        "宝石二路15号1单元102",
        "困难帮扶",
        "低保户，儿子在外务工，反映冬季取暖困难，已登记申请临时救助",
        "李明",
    ),
    (
        "2026-11-06",
        "刘桂兰",
        "宝石一路22号3单元502",
        "安全检查",
        "家中燃气软管老化，已告知住户并联系燃气公司上门更换",
        "王芳",
    ),
    (
        "2026-11-10",
        "陈志强",
        "保俶路40号",
        "政策宣传",
        "讲解城乡居民医保缴费政策，住户表示本月内完成缴费",
        "王芳",
    ),
    (
        "2026-11-12",
        "赵淑珍",
        "宝石二路3号1单元201",
        "矛盾调解",
        "与楼上住户因漏水产生矛盾，现场协调物业维修，双方达成谅解",
        "李明",
    ),
    (
        "2026-11-18",
        "孙海燕",
        "宝石一路8号1单元602",
        "信息采集",
        "新迁入住户，已采集家庭成员信息并登记",
        "王芳",
    ),
    (
        "2026-11-20",
        "周德明",
        "宝石三路6号",
        "日常走访",
        "退役军人，近期身体欠佳，已联系社区医生上门随访",
        "李明",
    ),
]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    data_dir = Path(tempfile.mkdtemp(prefix="wangge-samples-"))
    os.environ["WANGGE_DATA_DIR"] = str(data_dir)
    env = {**os.environ}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=ROOT,
                   env=env, check=True, capture_output=True)  # fmt: skip
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT,
                   env=env, check=True, capture_output=True)  # fmt: skip
    from sqlalchemy import select

    from ledger.accounts.models import User
    from ledger.audit.operations import Actor
    from ledger.context import Ctx
    from ledger.jobs.models import Job
    from ledger.ledgers.entries import create_entry
    from ledger.ledgers.exports.operations import start_export
    from server import create_app
    from server.auth.service import scope_for
    from server.jobs.execute import run_job

    app = create_app()
    made = {}
    with app.extensions["wangge_sessionmaker"]() as session:
        staff = session.scalar(select(User).where(User.username == "staff"))
        ctx = Ctx(session, Actor(staff.id, staff.username, staff.role), scope_for(session, staff),
                  app.extensions["wangge_pii"], app.extensions["wangge_blobs"])  # fmt: skip
        for i, (day, name, address, purpose, situation, visitor) in enumerate(VISITS):
            grid = "330106001001001" if i % 3 else "330106001001002"
            data = {"visit_date": day, "visited_name": name, "address": address,
                    "purpose": purpose, "situation": situation, "visitor": visitor}  # fmt: skip
            create_entry(ctx, "visit_log", {"area": grid, "data": data})
        jobs = {fmt: start_export(ctx, "visit_log", {"format": fmt}, runner="docs",
                                  may_reveal=False).id for fmt in ("xlsx", "pdf")}  # fmt: skip
        session.commit()
    for fmt, job_id in jobs.items():
        assert run_job(app, job_id, "docs") == "done"
        with app.extensions["wangge_sessionmaker"]() as session:
            job = session.get(Job, job_id)
            out = HERE / f"visit_log.{fmt}"
            with (
                app.extensions["wangge_blobs"].open(job.file_sha256) as src,
                open(out, "wb") as dst,
            ):
                shutil.copyfileobj(src, dst)
            made[fmt] = out

    printed = data_dir / "xlsx-printed"
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(printed),
                    str(made["xlsx"])], check=True, capture_output=True)  # fmt: skip
    for source, name in ((printed / "visit_log.pdf", "visit_log_xlsx"),
                         (made["pdf"], "visit_log_pdf")):  # fmt: skip
        subprocess.run(["pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile",
                        str(source), str(HERE / name)], check=True)  # fmt: skip
    shutil.rmtree(data_dir, ignore_errors=True)
    print("\n".join(str(p) for p in sorted(HERE.glob("visit_log*"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
