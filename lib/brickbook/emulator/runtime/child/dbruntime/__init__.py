"""A stand-in for the Databricks Runtime's ``dbruntime`` package: only its REPL context.

The child process puts this directory on ``sys.path`` (it is not imported as part of brickbook), so
``from dbruntime.databricks_repl_context import get_context`` works in user code and in libraries
the way it does on a Databricks cluster. See notebook_context.py.
"""
