"""Named runbooks: one module each, a plain function that reads like a checklist plus a short task."""
