//! `--format junit`: one `<testcase>` per swept test, its findings as `<failure>`s (allowed ones
//! as `<system-out>` notes), as nextest and CI systems read JUnit XML.
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::join::{DynFinding, Joined};

/// The XML text.
pub fn render(j: &Joined) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut w, j).expect("writing XML to memory cannot fail");
    let mut text = String::from_utf8(w.into_inner()).expect("the XML is UTF-8");
    text.push('\n');
    text
}

fn write(w: &mut Writer<Vec<u8>>, j: &Joined) -> std::io::Result<()> {
    let failing = |f: &DynFinding| f.allowed.is_none();
    let failed_tests = j
        .tests
        .iter()
        .filter(|t| t.findings.iter().any(|&i| failing(&j.findings[i])))
        .count();
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "oomcheck run"));
    suites.push_attribute(("tests", j.tests.len().to_string().as_str()));
    suites.push_attribute(("failures", failed_tests.to_string().as_str()));
    w.write_event(Event::Start(suites))?;
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", "oom-sweeps"));
    suite.push_attribute(("tests", j.tests.len().to_string().as_str()));
    suite.push_attribute(("failures", failed_tests.to_string().as_str()));
    suite.push_attribute(("errors", "0"));
    w.write_event(Event::Start(suite))?;
    for t in &j.tests {
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("name", t.test.as_str()));
        case.push_attribute(("classname", t.binary.as_str()));
        w.write_event(Event::Start(case))?;
        let mut notes = Vec::new();
        for &i in &t.findings {
            let f = &j.findings[i];
            if !failing(f) {
                notes.push(format!(
                    "allowed: #{} {} ({})",
                    f.alloc,
                    f.outcome.as_str(),
                    f.allowed.as_deref().unwrap_or("")
                ));
                continue;
            }
            let mut failure = BytesStart::new("failure");
            let message = format!("allocation #{} fails: {}", f.alloc, f.outcome.as_str());
            failure.push_attribute(("message", message.as_str()));
            failure.push_attribute(("type", f.outcome.as_str()));
            w.write_event(Event::Start(failure))?;
            w.write_event(Event::Text(BytesText::new(&details(j, f))))?;
            w.write_event(Event::End(BytesEnd::new("failure")))?;
        }
        let mut out = format!(
            "{} indices swept ({})",
            t.swept,
            t.outcomes
                .iter()
                .map(|(o, n)| format!("{} {n}", o.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for n in notes {
            out.push('\n');
            out.push_str(&n);
        }
        w.write_event(Event::Start(BytesStart::new("system-out")))?;
        w.write_event(Event::Text(BytesText::new(&out)))?;
        w.write_event(Event::End(BytesEnd::new("system-out")))?;
        w.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

/// A failure's text: the site, the message, the diff or stderr, the lint findings explaining
/// it, and the repro command.
fn details(j: &Joined, f: &DynFinding) -> String {
    let mut text = String::new();
    if let Some(site) = &f.site {
        text.push_str(&format!(
            "at {}:{} in {}\n",
            site.path, site.line, site.function
        ));
    }
    text.push_str(&f.message);
    text.push('\n');
    if let Some(d) = f.diff.as_ref().or(f.stderr.as_ref()) {
        text.push_str(d);
        text.push('\n');
    }
    for &l in &f.explained_by {
        let l = &j.lint[l];
        text.push_str(&format!(
            "explained by lint: {} at {}:{}\n",
            l.rule, l.path, l.line
        ));
    }
    text.push_str(&format!("reproduce with: {}", f.repro));
    text
}
