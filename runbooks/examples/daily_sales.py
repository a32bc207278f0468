# Databricks notebook source
# MAGIC %md
# MAGIC # Daily sales summary
# MAGIC The brickbook demo's notebook: it reads its parameters from widgets, builds a small day of orders,
# MAGIC aggregates them by region and exits with a JSON summary that the runbook's report shows.

# COMMAND ----------

import json
import random
from collections import defaultdict

dbutils.widgets.text("day", "2026-11-30")
dbutils.widgets.text("orders", "500")
day = dbutils.widgets.get("day")
order_count = int(dbutils.widgets.get("orders"))

# COMMAND ----------

# A deterministic day of orders: the same day gives the same figures on every run.
rng = random.Random(day)
regions = ["north", "south", "east", "west"]
orders = [
    {"region": rng.choice(regions), "amount": round(rng.uniform(5, 250), 2)} for _ in range(order_count)
]

totals = defaultdict(float)
counts = defaultdict(int)
for order in orders:
    totals[order["region"]] += order["amount"]
    counts[order["region"]] += 1

print(f"orders on {day}: {len(orders)}")
print(f"{'region':<8} {'orders':>6} {'revenue':>10}")
for region in sorted(totals, key=totals.get, reverse=True):
    print(f"{region:<8} {counts[region]:>6} {totals[region]:>10.2f}")

# COMMAND ----------

top = max(totals, key=totals.get)
summary = {
    "day": day,
    "orders": len(orders),
    "revenue": round(sum(totals.values()), 2),
    "top_region": top,
}
dbutils.notebook.exit(json.dumps(summary))
