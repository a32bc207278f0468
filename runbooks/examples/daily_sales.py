# Databricks notebook source
# MAGIC %md
# MAGIC # Daily sales summary
# MAGIC The brickbook demo's notebook: it reads its parameters from widgets, builds a small day of orders
# MAGIC as a table with `spark.sql`, aggregates them by region in SQL and exits with a JSON summary that
# MAGIC the runbook's report shows. It runs unchanged on Databricks and on the brickbook emulator.

# COMMAND ----------

import json
import random

dbutils.widgets.text("day", "2026-11-30")
dbutils.widgets.text("orders", "500")
day = dbutils.widgets.get("day")
order_count = int(dbutils.widgets.get("orders"))

# COMMAND ----------

# A deterministic day of orders: the same day gives the same figures on every run.
seed = random.Random(day).randrange(10_000)
spark.sql(
    """
    CREATE OR REPLACE TABLE main.default.demo_orders AS
    SELECT id AS order_id,
           element_at(
               array('north', 'south', 'east', 'west'), CAST((id * 31 + :seed) % 4 AS INT) + 1
           ) AS region,
           ROUND(5 + ((id + :seed) * 7919 % 24500) / 100.0, 2) AS amount
    FROM range(:orders)
    """,
    args={"seed": seed, "orders": order_count},
)

by_region = spark.sql(
    """
    SELECT region, count(*) AS orders, ROUND(sum(amount), 2) AS revenue
    FROM main.default.demo_orders
    GROUP BY region
    ORDER BY revenue DESC
    """
)
print(f"orders on {day}: {spark.table('main.default.demo_orders').count()}")
by_region.show()

# COMMAND ----------

rows = by_region.collect()
summary = {
    "day": day,
    "orders": sum(row.orders for row in rows),
    "revenue": round(sum(row.revenue for row in rows), 2),
    "top_region": rows[0].region,
}
dbutils.notebook.exit(json.dumps(summary))
