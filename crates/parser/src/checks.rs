//! Build checks (BuildKit rule names). Filled in by the checks work.
