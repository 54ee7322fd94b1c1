//! Finding the files to lint: walk, skip ignored and test code, prefilter by text.
