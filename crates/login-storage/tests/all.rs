//! Integration tests of `login-storage`, one binary.
