"""CLI and API: write synthetic document photos (NNNN_<kind>.jpg) with JSON ground truth."""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ocr.synthetic import people, render
from ocr.synthetic.degrade import Degradation, photograph, sample_degradation

__all__ = ["FIXTURE_PLAN", "FIXTURE_SEED", "KINDS", "Sample", "make_sample", "write_samples"]

KINDS = ("id_card_front", "id_card_back", "household_register_home", "household_register_member")
CLEAN_QUALITY = 85
# Flat renders for clean output; photos render larger when the document fills a big frame.
_BASE_WIDTH = {"id_card": 1000, "household_register": 1400}
_MAX_WIDTH = {"id_card": 2200, "household_register": 3000}

FIXTURE_SEED = 2026
# One entry per fixture index, applied to every kind (``per_kind`` refines it for one kind):
# together they cover what the committed set must show, including one illegible page.
FIXTURE_PLAN: tuple[dict, ...] = (
    {"clean": True},
    {"upside_down": True, "rotation_deg": 4.0, "jpeg_quality": 80, "glare": None,
     "photocopy": False, "background": "wood"},
    {"rotation_deg": 12.0, "perspective": 0.05, "blur_sigma": 1.0, "jpeg_quality": 70,
     "glare": None, "shadow": None, "photocopy": False, "upside_down": False,
     "background": "granite"},
    {"scale_in_frame": 0.3, "rotation_deg": -6.0, "jpeg_quality": 60, "blur_sigma": 0.0,
     "upside_down": False, "glare": None, "photocopy": False, "background": "desk",
     "expired": True, "per_kind": {"household_register_member": {"scale_in_frame": 0.2}}},
    {"photocopy": True, "rotation_deg": -3.0, "jpeg_quality": 75, "glare": None,
     "upside_down": False, "background": "wood"},
    {"glare": {"at": [0.62, 0.4], "radius": 0.18, "aspect": 1.6, "angle": 20.0, "strength": 0.8},
     "shadow": {"side": "left", "depth": 0.35, "curve": 0.1, "strength": 0.4, "softness": 0.03},
     "rotation_deg": -10.0, "upside_down": False, "photocopy": False, "jpeg_quality": 55,
     "background": "tablecloth"},
)  # fmt: skip
_FIXTURE_SIZE = (1600, 1200)
_NUMBER_LIST = re.compile(r"\[\s*((?:-?[0-9.e+-]+,?\s*)+?)\s*\]")


@dataclass
class Sample:
    """One generated image and its ground truth."""

    kind: str
    index: int
    image: Image.Image
    truth: dict
    jpeg_quality: int

    @property
    def stem(self) -> str:
        return f"{self.index:04d}_{self.kind}"

    def jpeg_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.image.save(buf, "JPEG", quality=self.jpeg_quality, subsampling=2, optimize=True)
        return buf.getvalue()


def _rng(seed: int, index: int, stream: str) -> random.Random:
    # String seeds hash with SHA-512 inside random, so streams are stable across runs and
    # platforms and independent of each other (a new kind never shifts another's draws).
    return random.Random(f"wangge-ocr:{seed}:{index}:{stream}")


def _family(kind: str) -> str:
    return "id_card" if kind.startswith("id_card") else "household_register"


def make_sample(
    seed: int,
    index: int,
    kind: str,
    *,
    clean: bool = False,
    overrides: dict | None = None,
    expired: bool | None = None,
) -> Sample:
    """Generate one document; the person depends only on (seed, index), shared by all kinds."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    person = people.make_person(_rng(seed, index, "person"))
    back_rng = _rng(seed, index, "back")
    if expired is None:
        expired = back_rng.random() < 0.1
    back = people.make_id_card_back(back_rng, person, expired=expired)
    household = people.make_household(_rng(seed, index, "household"), person)
    record = people.make_member_record(_rng(seed, index, "member"), person, household)

    photo_rng = _rng(seed, index, f"photo:{kind}")
    deg: Degradation | None = None
    width = _BASE_WIDTH[_family(kind)]
    if not clean:
        deg = sample_degradation(photo_rng, kind, **(overrides or {}))
        wanted = int(deg.output_size[0] * deg.scale_in_frame * 1.1)
        width = max(width, min(wanted, _MAX_WIDTH[_family(kind)]))

    render_rng = _rng(seed, index, f"render:{kind}")
    if kind == "id_card_front":
        flat = render.render_id_front(person, render_rng, width)
    elif kind == "id_card_back":
        flat = render.render_id_back(back, render_rng, width)
    elif kind == "household_register_home":
        flat = render.render_household_home(household, render_rng, width)
    else:
        flat = render.render_household_member(record, household, render_rng, width)

    meta = {
        "seed": seed,
        "index": index,
        "as_of": people.AS_OF.isoformat(),
        "render_size": list(flat.image.size),
        "values": flat.style.get("values"),
    }
    if kind == "id_card_back":
        meta["expired"] = back.expired
    if deg is None:
        image = flat.image
        w, h = image.size
        corners = [[0.0, 0.0], [float(w), 0.0], [float(w), float(h)], [0.0, float(h)]]
        degradations: dict = {"clean": True, "jpeg_quality": CLEAN_QUALITY}
        legible, quality = True, CLEAN_QUALITY
    else:
        photo = photograph(flat.image, kind, deg, photo_rng, flat.boxes)
        image, corners, legible = photo.image, photo.corners, photo.legible
        degradations = {"clean": False, **deg.to_json(), **photo.extras}
        quality = deg.jpeg_quality
    truth = {
        "document_type": kind,
        "fields": flat.fields,
        "corners": corners,
        "degradations": degradations,
        "legible": legible,
        "image_size": list(image.size),
        "field_boxes": {k: list(v) for k, v in flat.boxes.items()},
        "meta": meta,
    }
    return Sample(kind, index, image, truth, quality)


def _fixture_sample(index: int, kind: str) -> Sample:
    plan = dict(FIXTURE_PLAN[index])
    plan.update(plan.pop("per_kind", {}).get(kind, {}))
    clean = plan.pop("clean", False)
    expired = plan.pop("expired", False)
    plan.setdefault("output_size", _FIXTURE_SIZE)
    plan.setdefault("motion_blur", None)
    return make_sample(FIXTURE_SEED, index, kind, clean=clean, overrides=plan, expired=expired)


def write_sample(sample: Sample, out: Path) -> None:
    data = sample.jpeg_bytes()
    (out / f"{sample.stem}.jpg").write_bytes(data)
    truth = {"image": f"{sample.stem}.jpg", **sample.truth}
    text = json.dumps(truth, ensure_ascii=False, indent=2)
    # Keep number lists (corners, boxes, sizes) on one line so the files stay readable.
    text = _NUMBER_LIST.sub(
        lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text
    )
    (out / f"{sample.stem}.json").write_text(text + "\n", encoding="utf-8")


def write_samples(
    out: Path,
    count: int,
    seed: int,
    kinds: tuple[str, ...] = KINDS,
    *,
    clean: bool = False,
    start: int = 0,
) -> list[Path]:
    """Write ``count`` documents of each kind; returns the JPEG paths in order."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(start, start + count):
        for kind in kinds:
            sample = make_sample(seed, index, kind, clean=clean)
            write_sample(sample, out)
            written.append(out / f"{sample.stem}.jpg")
    return written


def write_fixtures(out: Path, kinds: tuple[str, ...] = KINDS) -> list[Path]:
    """Write the committed fixture set (tests/fixtures/ocr) exactly as FIXTURE_PLAN says."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(len(FIXTURE_PLAN)):
        for kind in kinds:
            sample = _fixture_sample(index, kind)
            write_sample(sample, out)
            written.append(out / f"{sample.stem}.jpg")
    return written


def _kinds(value: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"kinds must be among {', '.join(KINDS)}")
    return kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ocr.synthetic.generate",
        description="Write synthetic ID-card and household-register photos with ground truth.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--count", type=int, default=10, help="documents per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="first index (file name NNNN)")
    parser.add_argument("--kinds", type=_kinds, default=KINDS, help="comma-separated kinds")
    parser.add_argument("--clean", action="store_true", help="flat renders, no camera effects")
    parser.add_argument(
        "--fixtures",
        action="store_true",
        help="write the fixed fixture set (ignores --count/--seed/--clean)",
    )
    args = parser.parse_args(argv)
    if args.fixtures:
        paths = write_fixtures(args.out, args.kinds)
    else:
        paths = write_samples(
            args.out, args.count, args.seed, args.kinds, clean=args.clean, start=args.start
        )
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} images ({total / 1024:.0f} KiB) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
