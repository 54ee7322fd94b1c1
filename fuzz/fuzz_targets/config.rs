//! Configuration text → `oomcheck.toml` parsing and validation, the Cargo.toml metadata form,
//! the dependency list of a manifest, and the uses of a loaded configuration (excludes, levels,
//! `infallible-alloc` scopes, error locations).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use oomcheck_analyzer::config::{parse_config, parse_manifest_config, read_manifest};
use oomcheck_analyzer::RuleId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = Path::new("/project");
    let probe = [
        Path::new("/project/src/lib.rs"),
        Path::new("/project/src/net/parser.rs"),
        Path::new("/project/vendor/x/src/mod.rs"),
        Path::new("/elsewhere/a.rs"),
    ];
    let loaded = [
        parse_config(text, Path::new("/project/oomcheck.toml"), dir).map(Some),
        parse_manifest_config(text, Path::new("/project/Cargo.toml"), dir),
    ];
    for result in loaded {
        match result {
            Ok(Some(cfg)) => {
                let _ = cfg.max_file_size();
                for rule in RuleId::ALL {
                    let _ = cfg.level_of(rule, None);
                }
                for file in probe {
                    let _ = cfg.is_excluded(file, false);
                    let _ = cfg.is_excluded(file, true);
                    let _ = cfg.infallible_alloc_checked(file, Some(dir));
                }
            }
            Ok(None) => {}
            Err(e) => {
                let _ = e.line_col();
                let _ = e.to_string();
            }
        }
    }
    let _ = read_manifest(text);
});
