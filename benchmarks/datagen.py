"""Synthetic sales CSV for the load benchmarks: deterministic, ~100 bytes a row, with the things
real exports have (quoted fields with commas and doubled quotes, thousands separators, padding
that the `trim` rule removes), split into several objects, each with its header.

Files are cached under $WCPIPE_BENCH_DATA (default /tmp/wcpipe-bench-data): generating 1M rows
takes seconds, so a rerun reuses them.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

HEADER = "id,sale_date,country,city,product,quantity,unit_price,amount,note\n"
COUNTRIES = ["France", "Brazil", "Japan", "Germany", "Morocco", "Canada", "Mexico", "Qatar"]
CITIES = [
    "Paris",
    " Lyon ",
    '"Washington, D.C."',
    "Rio de Janeiro",
    "Osaka",
    '"Saint-Denis, Réunion"',
    "Doha",
    "Toronto",
]
PRODUCTS = ["ticket", "scarf", "jersey", "ball", "programme", "cap", "poster", "mug"]
NOTES = [
    "",
    "gift for the family",
    '"said ""great match"", paid cash"',
    "refund pending approval",
    '"vip, box 12, row C"',
]

SPEC_COLUMNS = """\
    - {name: id, type: bigint, nullable: false}
    - {name: sale_date, type: date}
    - {name: country, type: varchar(32)}
    - {name: city, type: varchar(48), clean: [trim]}
    - {name: product, type: varchar(64)}
    - {name: quantity, type: integer}
    - {name: unit_price, type: "decimal(10,2)"}
    - {name: amount, type: "decimal(12,2)", clean: [thousands]}
    - {name: note, type: varchar(128)}
"""


def data_dir() -> Path:
    d = Path(os.environ.get("WCPIPE_BENCH_DATA", "/tmp/wcpipe-bench-data"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _rows(first_id: int, count: int, seed: int) -> str:
    rnd = random.Random(seed)
    out = []
    for i in range(first_id, first_id + count):
        qty = rnd.randint(1, 4000)
        price = rnd.randint(100, 99999) / 100
        amount = qty * price
        amount_text = f'"{amount:,.2f}"' if amount >= 1000 else f"{amount:.2f}"
        out.append(
            f"{i},2022-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d},"
            f"{rnd.choice(COUNTRIES)},{rnd.choice(CITIES)},{rnd.choice(PRODUCTS)},"
            f"{qty},{price:.2f},{amount_text},{rnd.choice(NOTES)}\n"
        )
    return "".join(out)


def parts(total_rows: int, objects: int, *, first_id: int = 1, tag: str = "") -> list[Path]:
    """`objects` files with `total_rows` rows between them (ids from `first_id`), cached."""
    per = total_rows // objects
    paths = []
    for n in range(objects):
        count = per if n < objects - 1 else total_rows - per * (objects - 1)
        start = first_id + n * per
        path = data_dir() / f"sales{tag}-{start}-{count}.csv"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(HEADER)
                for chunk in range(0, count, 50_000):
                    f.write(_rows(start + chunk, min(50_000, count - chunk), seed=start + chunk))
            tmp.rename(path)
        paths.append(path)
    return paths


def spec_text(name: str, table: str, *, bookmarks: bool = True, mode: str = "merge") -> str:
    keys = "\n  keys: [id]" if mode == "merge" else ""
    return f"""\
name: {name}
region: us-east-1
data:
  prefix: raw/sales/
  csv: {{header: true, delimiter: ",", quote: '"', encoding: utf-8}}
table:
  schema: public
  name: {table}
  columns:
{SPEC_COLUMNS}load:
  mode: {mode}{keys}
warehouse: {{type: provisioned, database: dev, node_type: ra3.large, nodes: 1}}
glue: {{version: "4.0", worker_type: G.1X, workers: 2, bookmarks: {str(bookmarks).lower()}}}
"""
