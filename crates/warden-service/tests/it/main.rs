//! Integration tests of the use cases against a real MariaDB that this test binary starts
//! itself (warden-sandbox), each test in a database of its own.

mod authz;
mod directory;
mod django;
mod mapping;
mod sqli;
mod support;
