//! oomcheck's allocation-failure injector.
