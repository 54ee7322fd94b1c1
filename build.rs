//! Builds the allocation interposer (`preload/`, a `#![no_std]` cdylib) with the same `rustc`,
//! into `OUT_DIR`, for `src/preload/library.rs` to embed: `cargo install` installs binaries
//! only, so the library travels inside the `oomcheck` binary.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=preload/src");
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lib = out.join("liboomcheck_preload.so");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        // `LD_PRELOAD` interposition of glibc's allocator: Linux with glibc only. Elsewhere the
        // embedded library is empty and `exec` / `run --preload` say they are unsupported.
        std::fs::write(&lib, b"").expect("write the placeholder library");
        return;
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let mut cmd = Command::new(rustc);
    cmd.args(["--crate-type", "cdylib", "--crate-name", "oomcheck_preload"])
        .args(["--edition", "2021", "--target", &target])
        .args(["-C", "panic=abort", "-O", "-C", "strip=debuginfo"])
        // Bind every symbol at load time: no lazy resolution from inside `malloc`.
        .args(["-C", "link-arg=-Wl,-z,now"])
        .arg("-o")
        .arg(&lib)
        .arg("preload/src/lib.rs");
    if let Some(linker) = std::env::var_os("RUSTC_LINKER") {
        cmd.arg("-C").arg({
            let mut a = std::ffi::OsString::from("linker=");
            a.push(linker);
            a
        });
    }
    let status = cmd.status().expect("run rustc on preload/src/lib.rs");
    assert!(
        status.success(),
        "building the allocation interposer failed"
    );
}
