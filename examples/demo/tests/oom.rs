//! Out-of-memory checks: one `oomcheck_injector::check` per parser.
//!
//! `cargo test` runs each body once. `oomcheck run` (or `OOMCHECK=1 cargo test`) re-runs each
//! body failing allocation #1, #2, … in turn and reports every index whose outcome is not a clean
//! `Error::NoMemory`/`Error::OutOfMemory`. See `src/lib.rs` for the bugs each check finds.
use oomcheck_demo::{
    parse_description, parse_disk, parse_domain, parse_header, parse_interface, parse_memory,
    parse_vcpu,
};

#[global_allocator]
static ALLOC: oomcheck_injector::FailingAllocator = oomcheck_injector::FailingAllocator::system();

/// A description using every element.
const WEB01: &str = "\
domain name=web01 type=kvm
memory unit=MiB value=2048
vcpu count=2 placement=static current=1
disk device=disk source=/var/lib/libvirt/images/web01.qcow2 target=vda cache=none
interface type=network source=default mac=52:54:00:6b:3c:01 model=virtio
description front-end web server
";

/// Correct code: every index returns `NoMemory`.
#[test]
fn header_survives_oom() {
    oomcheck_injector::check(|| parse_header("domain name=web01 type=kvm"));
}

/// Finds the remapped error (`W`).
#[test]
fn memory_survives_oom() {
    oomcheck_injector::check(|| parse_memory("memory unit=MiB value=2048"));
}

/// Finds the lost cache mode (`C`).
#[test]
fn disk_survives_oom() {
    oomcheck_injector::check(|| {
        parse_disk(
            "disk device=disk source=/var/lib/libvirt/images/web01.qcow2 target=vda cache=none",
        )
    });
}

/// Finds the `unwrap` (`P`).
#[test]
fn interface_survives_oom() {
    oomcheck_injector::check(|| {
        parse_interface("interface type=network source=default mac=52:54:00:6b:3c:01")
    });
}

/// Finds the infallible `format!` on the unknown-attribute path (`A`).
#[test]
fn vcpu_survives_oom() {
    oomcheck_injector::check(|| parse_vcpu("vcpu count=2 placement=static current=1"));
}

/// Clean in the default (transient) mode; `--mode persistent` finds the `format!` in the error
/// path (`A`).
#[test]
fn description_survives_oom() {
    oomcheck_injector::check(|| parse_description("description front-end web server"));
}

/// The whole parser: every bug above in one sweep.
#[test]
fn domain_survives_oom() {
    oomcheck_injector::check(|| parse_domain(WEB01));
}
