"""The supplier domain's SQL: the Haier catalogue, its prices and its stored images."""

from sqlalchemy import Engine, insert, select, update

from inventory_pipeline.clock import utcnow
from inventory_pipeline.db.tables import product_images, product_prices, products


def catalogue_codes(engine: Engine, wanted: list[str]) -> list[str]:
    with engine.connect() as conn:
        query = select(products.c.product_code).where(products.c.source == "haier")
        if wanted:
            query = query.where(products.c.product_code.in_(wanted))
        return list(conn.execute(query.order_by(products.c.product_code)).scalars())


def upsert_changed(engine: Engine, rows: list[dict]) -> tuple[int, int]:
    """Create new products, rewrite changed ones, leave unchanged ones alone. (created, updated)."""
    now = utcnow()
    with engine.begin() as conn:
        known = (
            dict(
                conn.execute(
                    select(products.c.product_code, products.c.content_hash).where(
                        products.c.product_code.in_([r["product_code"] for r in rows])
                    )
                ).all()
            )
            if rows
            else {}
        )
        new = [{**r, "created_at": now, "updated_at": now} for r in rows if r["product_code"] not in known]
        changed = [r for r in rows if r["product_code"] in known and known[r["product_code"]] != r["content_hash"]]
        if new:
            conn.execute(insert(products), new)
        for r in changed:
            conn.execute(
                update(products)
                .where(products.c.product_code == r["product_code"])
                .values(**{k: v for k, v in r.items() if k != "product_code"}, updated_at=now)
            )
    return len(new), len(changed)


def replace_prices(engine: Engine, rows: list[dict]) -> None:
    """Each priced product's price row replaced in one transaction."""
    codes = [r["product_code"] for r in rows]
    if not codes:
        return
    with engine.begin() as conn:
        conn.execute(product_prices.delete().where(product_prices.c.product_code.in_(codes)))
        conn.execute(insert(product_prices), rows)


def image_inputs(engine: Engine) -> tuple[list, set, dict]:
    """Every product's image URLs, the (product, URL) pairs already stored, and stored paths by SHA-256."""
    with engine.connect() as conn:
        catalogue = conn.execute(select(products.c.product_code, products.c.image_urls)).all()
        have = set(conn.execute(select(product_images.c.product_code, product_images.c.url)).all())
        by_hash = dict(conn.execute(select(product_images.c.sha256, product_images.c.path)).all())
    return catalogue, have, by_hash


def record_image(engine: Engine, image: dict) -> None:
    with engine.begin() as conn:
        conn.execute(insert(product_images).values(**image, created_at=utcnow()))
