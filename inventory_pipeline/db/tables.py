"""The inventory database, as SQLAlchemy Core tables. The schema itself is created by Alembic
(``inventory_pipeline/db/migrations``); these objects are what the code queries with.

Times are naive UTC. Every text compares exactly, on every database (``ExactText``): two SKUs that
differ by case, a trailing space or Ё/Е are two keys. Column names follow the seeds
(``current_stock``, ``reserved_stock``, ``last_sync_at``, ``records_processed``...) so that their
monitoring SQL works unchanged.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.dialects import mysql

from inventory_pipeline.db.dialect import ExactText

metadata = MetaData()

# BIGINT on MySQL, INTEGER on SQLite (which only autoincrements INTEGER PRIMARY KEY).
Id = BigInteger().with_variant(Integer(), "sqlite")
# Raw API pages can exceed BLOB's 64 KiB on MySQL.
Blob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")

KEY_COLUMNS = ("source", "account", "sku", "warehouse_id", "stock_type")

inventory_data = Table(
    "inventory_data",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("sku", ExactText(128), nullable=False),
    Column("warehouse_id", ExactText(32), nullable=False),
    Column("stock_type", ExactText(8), nullable=False),
    Column("product_id", ExactText(32), nullable=False),
    Column("marketplace_sku", ExactText(32), nullable=False),
    Column("warehouse_name", ExactText(128), nullable=False),
    Column("current_stock", Integer, nullable=False),
    Column("reserved_stock", Integer, nullable=False),
    Column("available_stock", Integer, nullable=False),
    Column("last_sync_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("first_seen_at", DateTime),
    UniqueConstraint(*KEY_COLUMNS, name="uq_inventory_key"),
    Index("idx_product_source", "product_id", "source"),
    Index("idx_source_account", "source", "account", "stock_type"),
    Index("idx_sku", "sku"),
    Index("idx_marketplace_sku", "marketplace_sku", "source", "account"),  # a signal names a size by it
    Index("idx_slice_written", "source", "account", "updated_at"),  # what a sync wrote, for its anomalies
)

inventory_history = Table(
    "inventory_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("sku", ExactText(128), nullable=False),
    Column("warehouse_id", ExactText(32), nullable=False),
    Column("stock_type", ExactText(8), nullable=False),
    Column("current_before", Integer),
    Column("current_after", Integer, nullable=False),
    Column("reserved_before", Integer),
    Column("reserved_after", Integer, nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("run_id", ExactText(64), nullable=False),
    Column("change", ExactText(8)),  # new, changed, vanished
    Index("idx_history_sku_time", "source", "account", "sku", "changed_at"),
    Index("idx_history_time", "changed_at"),
    Index("idx_history_run", "run_id", "account"),
)

sync_logs = Table(
    "sync_logs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("sync_type", ExactText(16), nullable=False),
    Column("status", ExactText(16), nullable=False),
    Column("records_processed", Integer, nullable=False, default=0),
    Column("records_failed", Integer, nullable=False, default=0),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("duration_seconds", Float),
    Column("error_message", Text),
    Column("run_id", ExactText(64), nullable=False),
    Column("worker", ExactText(128)),  # host:pid:start of the run's process (sync_log.this_worker)
    Index("idx_sync_logs_source_started", "source", "started_at"),
    Index("idx_sync_logs_run", "run_id"),
)

stock_snapshots = Table(
    "stock_snapshots",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("run_id", ExactText(64), nullable=False),
    Column("fetched_at", DateTime, nullable=False),
    Column("status", ExactText(16), nullable=False),  # fetching, accepted, rejected, failed
    Column("sku_count", Integer, nullable=False, default=0),
    Column("row_count", Integer, nullable=False, default=0),
    Column("skipped_count", Integer, nullable=False, default=0),
    Column("page_count", Integer, nullable=False, default=0),
    Column("api_calls", Integer, nullable=False, default=0),
    Column("reason", Text),
    Column("applied_at", DateTime),
    Column("part_rows", Text),  # JSON {part: rows}: the WB report, each seller warehouse
    Index("idx_snapshots_latest", "source", "account", "status", "fetched_at"),
)

stock_snapshot_pages = Table(
    "stock_snapshot_pages",
    metadata,
    Column("snapshot_id", Id, ForeignKey("stock_snapshots.id", ondelete="CASCADE"), primary_key=True),
    Column("page_no", Integer, primary_key=True, autoincrement=False),
    Column("part", ExactText(48), nullable=False),
    Column("body_gzip", Blob, nullable=False),
)

# The snapshot's ledger rows as normalized once, when fetched (gzip TSV, ledger.ROW_COLUMNS): the
# ledger step loads them without parsing a page again.
stock_snapshot_rows = Table(
    "stock_snapshot_rows",
    metadata,
    Column("snapshot_id", Id, ForeignKey("stock_snapshots.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk_no", Integer, primary_key=True, autoincrement=False),
    Column("rows_gzip", Blob, nullable=False),
    # Per line, in order, uint64: xxh3 of the line and of its key (``row_diff``); empty before 0010.
    Column("line_hashes", Blob),
    Column("key_hashes", Blob),
)

# One row per ledger slice (source = ``marketplace``, account = ``name``): ``last_synced_at`` is the
# fetch time of the snapshot last applied to the slice. Freshness is kept here, once per slice, so a
# sync writes only the rows that changed; ``inventory_data.last_sync_at`` is when a row last changed.
accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("marketplace", ExactText(16), nullable=False),
    Column("name", ExactText(32), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("first_seen_at", DateTime, nullable=False),
    Column("last_synced_at", DateTime),
    # The snapshot the slice was last made equal to, and "rows,current,reserved,available" of the
    # slice's non-zero rows right after: while both still hold, the next sync compares snapshots.
    Column("snapshot_id", Id),
    Column("row_figures", ExactText(96)),
    UniqueConstraint("marketplace", "name", name="uq_account"),
)

# Ledger rows with their slice's sync time (``accounts.last_synced_at``).
inventory_synced = inventory_data.join(
    accounts, and_(accounts.c.marketplace == inventory_data.c.source, accounts.c.name == inventory_data.c.account)
)
synced_at = accounts.c.last_synced_at

# A view (created by the migration): one row per source, account and SKU with the totals.
inventory_totals = Table(
    "inventory_totals",
    MetaData(),
    Column("source", ExactText(16)),
    Column("account", ExactText(32)),
    Column("sku", ExactText(128)),
    Column("current_stock", Integer),
    Column("reserved_stock", Integer),
    Column("available_stock", Integer),
    Column("last_sync_at", DateTime),
)

wix_plans = Table(
    "wix_plans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", ExactText(64), nullable=False),
    Column("catalog_version", ExactText(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("total_products", Integer, nullable=False),
    Column("found_in_wix", Integer, nullable=False),
    Column("updates_prepared", Integer, nullable=False),
    Column("unknown_in_wix", Integer, nullable=False),
)

wix_plan_items = Table(
    "wix_plan_items",
    metadata,
    Column("plan_id", Id, ForeignKey("wix_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("sku", ExactText(128), primary_key=True),
    Column("product_id", ExactText(64), nullable=False),
    Column("variant_id", ExactText(64), nullable=False),
    Column("inventory_item_id", ExactText(64), nullable=False),
    Column("revision", ExactText(32)),
    Column("current_quantity", Integer, nullable=False),
    Column("target_quantity", Integer, nullable=False),
)

wix_push_log = Table(
    "wix_push_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", ExactText(64), nullable=False),
    Column("sku", ExactText(128), nullable=False),
    Column("product_id", ExactText(64), nullable=False),
    Column("variant_id", ExactText(64), nullable=False),
    Column("before_quantity", Integer, nullable=False),
    Column("target_quantity", Integer, nullable=False),
    Column("delta", Integer, nullable=False),
    Column("status", ExactText(16), nullable=False),  # applied, failed
    Column("error", Text),
    Column("pushed_at", DateTime, nullable=False),
    Index("idx_wix_push_log_run", "run_id"),
    Index("idx_wix_push_log_sku", "sku", "pushed_at"),
)

products = Table(
    "products",
    metadata,
    Column("product_code", ExactText(32), primary_key=True),
    Column("source", ExactText(16), nullable=False),
    Column("model", ExactText(128), nullable=False),
    Column("category", ExactText(64), nullable=False),
    Column("brand", ExactText(64), nullable=False),
    Column("sellable", Boolean, nullable=False),
    Column("not_sellable_reason", ExactText(255), nullable=False),
    Column("image_urls", Text, nullable=False),  # JSON list
    Column("content_hash", ExactText(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("idx_products_brand_category", "brand", "category"),
)

product_prices = Table(
    "product_prices",
    metadata,
    Column("product_code", ExactText(32), primary_key=True),
    Column("supply_price", Float),
    Column("invoice_price", Float),
    Column("stock_rebate", Float),
    Column("rebate_money", Float),
    Column("sale_price", Float),
    Column("sellable", Boolean, nullable=False),
    Column("reason", ExactText(255), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

product_images = Table(
    "product_images",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("product_code", ExactText(32), nullable=False),
    Column("url", ExactText(512), nullable=False),
    Column("path", ExactText(255), nullable=False),
    Column("sha256", ExactText(64), nullable=False),
    Column("content_type", ExactText(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("product_code", "url", name="uq_product_image_url"),
    Index("idx_product_images_sha", "sha256"),
)

sales = Table(
    "sales",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("sale_date", Date, nullable=False),  # the marketplace's own day (Moscow time)
    Column("kind", ExactText(8), nullable=False),  # order, sale, return
    Column("external_id", ExactText(96), nullable=False),
    Column("sku", ExactText(128), nullable=False),
    Column("scheme", ExactText(8), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount", Float, nullable=False),
    Column("cancelled", Boolean, nullable=False),
    Column("event_at", DateTime, nullable=False),
    UniqueConstraint("source", "account", "kind", "external_id", name="uq_sales_event"),
    Index("idx_sales_day", "source", "account", "sale_date"),
    Index("idx_sales_sku_day", "sku", "sale_date"),
)

sales_analysis = Table(
    "sales_analysis",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("computed_at", DateTime, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("sku", ExactText(128), nullable=False),
    Column("units", Integer, nullable=False),
    Column("revenue", Float, nullable=False),
    Column("days_in_stock", Integer, nullable=False),
    Column("avg_daily_units_in_stock", Float, nullable=False),
    Column("theoretical_units", Float, nullable=False),
    Index("idx_sales_analysis_sku", "source", "account", "sku", "computed_at"),
)

product_status = Table(
    "product_status",
    metadata,
    Column("account", ExactText(32), primary_key=True),
    Column("sku", ExactText(128), primary_key=True),
    Column("status", ExactText(16), nullable=False),
    Column("since", DateTime, nullable=False),
)

product_status_history = Table(
    "product_status_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account", ExactText(32), nullable=False),
    Column("sku", ExactText(128), nullable=False),
    Column("old_status", ExactText(16)),
    Column("new_status", ExactText(16), nullable=False),
    Column("changed_at", DateTime, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_type", ExactText(32), nullable=False),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("sku", ExactText(128), nullable=False),
    Column("stock_type", ExactText(8), nullable=False),
    Column("message", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("run_id", ExactText(64), nullable=False),
    Column("delivered", ExactText(64), nullable=False),
    Column("delivery_errors", Text),
    Index("idx_notifications_sku", "event_type", "account", "sku", "created_at"),
)

event_dedupe = Table(
    "event_dedupe",
    metadata,
    Column("dedupe_key", ExactText(255), primary_key=True),
    Column("last_sent_at", DateTime, nullable=False),
)

event_cursors = Table(
    "event_cursors",
    metadata,
    Column("name", ExactText(64), primary_key=True),
    Column("last_history_id", BigInteger, nullable=False),
)

stock_anomalies = Table(
    "stock_anomalies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", ExactText(64), nullable=False),
    Column("detected_at", DateTime, nullable=False),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("sku", ExactText(128), nullable=False),
    Column("warehouse_id", ExactText(32), nullable=False),
    Column("stock_type", ExactText(8), nullable=False),
    Column("rule", ExactText(32), nullable=False),
    Column("severity", ExactText(8), nullable=False, server_default="info"),  # error, warn, info
    Column("value", Float, nullable=False),
    Column("detail", ExactText(255), nullable=False),
    Index("idx_anomalies_run", "run_id"),
    Index("idx_anomalies_time", "detected_at"),
)

# Change signals waiting for the fast path: an Ozon push or a polled WB order names what to re-read;
# the stock itself is always read again from the marketplace, never taken from the signal.
stock_signals = Table(
    "stock_signals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", ExactText(16), nullable=False),
    Column("account", ExactText(32), nullable=False),
    Column("kind", ExactText(32), nullable=False),  # e.g. TYPE_NEW_POSTING, wb_new_order
    Column("ref_type", ExactText(16), nullable=False),  # offer_id, product_id, sku (Ozon's), chrt_id
    Column("ref", ExactText(128), nullable=False),
    Column("warehouse_id", ExactText(32), nullable=False, default=""),
    Column("dedupe_key", ExactText(255), nullable=False, unique=True),
    Column("received_at", DateTime, nullable=False),
    Column("changed_at", DateTime),  # when the marketplace says the change happened
    Column("status", ExactText(16), nullable=False),  # pending, claimed, applied, failed
    Column("run_id", ExactText(64)),
    Column("done_at", DateTime),
    Column("note", ExactText(255)),
    Column("attempts", Integer, nullable=False, default=0),  # runs that gave it back unread
    Index("idx_signals_pending", "account", "status", "id"),
    Index("idx_signals_waiting", "status", "account"),
    Index("idx_signals_orders", "account", "source", "kind", "received_at"),
)


# The rate-limit buckets every process of the instance draws from (resources/pacing.py).
pacing_buckets = Table(
    "pacing_buckets",
    metadata,
    Column("bucket", ExactText(200), primary_key=True),  # source|account or Client-Id|method group
    Column("tokens", Double, nullable=False),
    Column("at_seconds", Double, nullable=False),  # the server's clock, Unix seconds
)
