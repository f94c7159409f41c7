"""Record rapidocr lines for a generated document set, so parser tests run without the engine.

    python -m tests.ocr.parsers.record --seed 7 --count 40 \
        --out tests/ocr/parsers/data/recorded_lines.json.gz

Each photo is cropped with its ground-truth corners (a perfect locator) before OCR; flat renders
are read as they are. Takes about 10 minutes on 2 cores for 40 documents of each kind, twice.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from ocr.engine import get_engine
from ocr.synthetic.generate import KINDS, make_sample
from tests.ocr.parsers.test_fixtures_ocr import crop


def record(seed: int, count: int) -> dict:
    engine = get_engine()
    out = {}
    for clean in (True, False):
        for index in range(count):
            for kind in KINDS:
                sample = make_sample(seed, index, kind, clean=clean)
                data = np.frombuffer(sample.jpeg_bytes(), np.uint8)
                image = cv2.imdecode(data, cv2.IMREAD_COLOR)
                truth = sample.truth
                if not clean:
                    image = crop(image, truth["corners"])
                lines = engine.recognize(image).lines
                out[f"{'clean' if clean else 'photo'}/{sample.stem}"] = {
                    "type": kind,
                    "legible": truth["legible"],
                    "as_of": truth["meta"]["as_of"],
                    "fields": truth["fields"],
                    "lines": [
                        [
                            ln.text,
                            round(ln.confidence, 3),
                            [[round(x), round(y)] for x, y in ln.box],
                        ]
                        for ln in lines
                    ],
                }
                print(sample.stem, "clean" if clean else "photo", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.ocr.parsers.record")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=40)
    args = parser.parse_args(argv)
    data = json.dumps(record(args.seed, args.count), ensure_ascii=False, separators=(",", ":"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(gzip.compress(data.encode("utf-8"), mtime=0))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
