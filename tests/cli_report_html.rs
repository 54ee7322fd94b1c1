//! The HTML coverage report in a real headless browser (Debian's `chromium`, which `.ci/run`
//! installs): the page's DOM holds every site in its state, and a screenshot of it is not blank.
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{oomcheck_command, repo};

/// Chromium, headless, isolated from any profile, network service or update.
fn chromium(profile: &Path) -> Command {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1000,760",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// The demo's HTML report of a full run, written under `dir`.
fn demo_page(dir: &Path) -> PathBuf {
    let demo = repo().join("examples/demo");
    let records = dir.join("records");
    let run = oomcheck_command(&demo, &["run"])
        .env("OOMCHECK_REPORT", &records)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "the demo has findings");
    let page = dir.join("report.html");
    let out = oomcheck_command(
        &demo,
        &[
            "report",
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
            records.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    page
}

#[test]
fn the_page_renders_every_site_and_is_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let page = demo_page(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    let url = format!("file://{}", page.display());

    let dom = chromium(&dir.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs (install Debian's `chromium`)");
    assert!(dom.status.success(), "{dom:?}");
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The summary table: one row per site, each in its state, as the browser parsed it.
    let rows = |state: &str| {
        dom.matches(&format!("<tr class=\"{state}\"><td>src/lib.rs:"))
            .count()
    };
    assert!(rows("finding") >= 3, "{dom}");
    assert!(rows("handled") >= 5, "{dom}");
    assert_eq!(rows("never-failed"), 1, "one site no test fails: {dom}");
    assert!(dom.contains("explained by lint: <b>remapped-alloc-error</b>"));
    assert!(dom.contains("(confirmed by run)"));
    assert!(dom.contains("reproduce with: <code>OOMCHECK=1 OOMCHECK_ALLOC="));

    let shot = dir.path().join("shot.png");
    let out = chromium(&dir.path().join("profile-shot"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let non_white = pixels
        .iter()
        .filter(|p| p[..3].iter().any(|&c| c < 240))
        .count();
    assert!(
        non_white > pixels.len() / 20,
        "{non_white} of {} pixels are not white",
        pixels.len()
    );
    // The state colours are on screen: the sites table is at the top of the page.
    let near = |p: &&&[u8], rgb: [u8; 3]| p[..3].iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) < 8);
    assert!(
        pixels.iter().any(|p| near(&p, [0xf6, 0xc2, 0xc2])),
        "a finding row"
    );
    assert!(
        pixels.iter().any(|p| near(&p, [0xc8, 0xef, 0xc8])),
        "a handled row"
    );
    assert!(
        pixels.iter().any(|p| near(&p, [0xf3, 0xe3, 0xa0])),
        "a never-failed row"
    );
}
