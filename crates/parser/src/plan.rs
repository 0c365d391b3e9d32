//! The instruction DAG (planner). Filled in by the planner work.
