"""Running jobs for real: the scheduler, the child-process launcher, the DAG rules and the child side."""
