//! Live mode's manifest and gate (issue 32): `acceptance-tests/live-tests.txt` names the tests
//! that may run against real accounts, by tier, and this keeps it true; in live mode, the gate
//! runs first and says which accounts it would touch.

use std::collections::BTreeSet;
use std::path::Path;

use acceptance_tests::{backend, live, workspace_root, Backend};

const TIERS: &[&str] = &["smoke", "core", "extended"];
/// Smoke must stay quick and cheap: minutes and cents.
const SMOKE_AT_MOST: usize = 12;
/// What a test running against real AWS cannot call: the stand-in's admin routes.
const ADMIN_CALLS: &[&str] = &[
    "needs_admin(",
    ".calls(",
    ".mutating_calls(",
    ".clear_calls(",
    ".call_log(",
    ".inject_fault(",
    ".set_copy_duration(",
    ".set_copy_quota(",
    ".advance_clock(",
    ".fail_copy(",
    ".fail_next_copy(",
    ".set_organization(",
    ".admin(",
];

/// `(tier, file, test)` of each manifest line.
fn manifest() -> Vec<(String, String, String)> {
    let path = workspace_root().join("acceptance-tests/live-tests.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path:?}: {err}"));
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut words = line.split_whitespace();
            let (Some(tier), Some(test), None) = (words.next(), words.next(), words.next()) else {
                panic!("live-tests.txt: {line:?} is not `tier file::test`");
            };
            let (file, name) = test
                .split_once("::")
                .unwrap_or_else(|| panic!("live-tests.txt: {test:?} is not file::test"));
            (tier.to_owned(), file.to_owned(), name.to_owned())
        })
        .collect()
}

/// The body of `fn name()` in `source`, up to the next test, if there is one.
fn body_of<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    let start = source.find(&format!("fn {name}() {{"))?;
    let rest = &source[start..];
    let end = rest[1..].find("\n#[test]").map_or(rest.len(), |e| e + 1);
    Some(&rest[..end])
}

#[test]
fn every_live_test_exists_and_needs_no_admin_route() {
    let tests_dir = workspace_root().join("acceptance-tests/tests");
    let entries = manifest();
    assert!(!entries.is_empty(), "the manifest lists no test");
    let mut seen = BTreeSet::new();
    for (tier, file, name) in &entries {
        assert!(
            TIERS.contains(&tier.as_str()),
            "{file}::{name}: unknown tier {tier}"
        );
        assert!(
            seen.insert((file.clone(), name.clone())),
            "{file}::{name} is listed twice"
        );
        let path = tests_dir.join(format!("{file}.rs"));
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{file}::{name}: {}: {err}", path.display()));
        let body = body_of(&source, name)
            .unwrap_or_else(|| panic!("{file}::{name}: no such test in {}", path.display()));
        for call in ADMIN_CALLS {
            assert!(
                !body.contains(call),
                "{file}::{name} is in the live manifest but calls {call}, which real AWS does not have"
            );
        }
    }
    let smoke = entries.iter().filter(|(t, _, _)| t == "smoke").count();
    assert!(
        (1..=SMOKE_AT_MOST).contains(&smoke),
        "smoke has {smoke} tests; keep it to {SMOKE_AT_MOST} or fewer"
    );
    assert!(Path::new(&tests_dir).is_dir());
}

/// In live mode: the gate (both switches, and every account STS reports on the allow-list), with
/// the accounts it found printed. Elsewhere it has nothing to check.
#[test]
fn live_gate() {
    if backend() != Backend::Live {
        println!("live mode only (IMAGECOPIER_ACC_BACKEND=live)");
        return;
    }
    match live::gate() {
        Ok(accounts) => println!("live mode may touch: {accounts:?}"),
        Err(refused) => panic!("live mode refused: {refused}"),
    }
}
