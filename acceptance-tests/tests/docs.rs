//! The documentation a user reads is consistent: every relative link in README.md,
//! ARCHITECTURE.md, docs/ and examples/ points at a file that exists, and every `#anchor` at a
//! heading of that file (GitHub's and the registry's slug rules), so no page sends a reader to
//! nowhere. Links to other sites are not checked (no network here).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use acceptance_tests::{workspace_root, Terraform, Workdir};

/// The Markdown files users read.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    for dir in ["docs", "examples"] {
        collect(&root.join(dir), &mut files);
    }
    files.sort();
    files
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|err| panic!("reading {}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The text outside fenced code blocks: links and headings inside code are examples.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// GitHub's heading slug: lower case, spaces to hyphens, punctuation other than `-` and `_`
/// dropped. Repeated headings get `-1`, `-2`, ...
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let title = heading.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let mut unique = slug.clone();
        let mut n = 1;
        while seen.contains(&unique) {
            unique = format!("{slug}-{n}");
            n += 1;
        }
        seen.insert(unique);
    }
    seen
}

/// The targets of inline links `[text](target)` on `line`.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or_default();
        targets.push(target.to_owned());
        rest = &after[end..];
    }
    targets
}

/// Broken relative links in `file`, as `file: target (why)`.
fn broken_links(root: &Path, file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|err| panic!("reading {}: {err}", file.display()));
    let shown = file
        .strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string();
    let mut broken = Vec::new();
    for line in prose(&text) {
        for target in link_targets(line) {
            if target.contains("://") || target.starts_with("mailto:") || target.is_empty() {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let linked = if path.is_empty() {
                file.to_path_buf()
            } else {
                file.parent().expect("a parent directory").join(path)
            };
            if !linked.exists() {
                broken.push(format!("{shown}: {target} (no such file)"));
                continue;
            }
            if let Some(anchor) = anchor {
                let linked_text = std::fs::read_to_string(&linked).unwrap_or_default();
                if !anchors(&linked_text).contains(anchor) {
                    broken.push(format!("{shown}: {target} (no such heading)"));
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let root = workspace_root();
    let files = markdown_files(&root);
    assert!(
        files.len() >= 6,
        "expected the README, docs and examples: {files:?}"
    );
    let links: usize = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            prose(&text)
                .iter()
                .map(|l| link_targets(l).len())
                .sum::<usize>()
        })
        .sum();
    let broken: Vec<String> = files.iter().flat_map(|f| broken_links(&root, f)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    eprintln!("{} files, {links} links checked", files.len());
}

#[test]
fn the_checker_finds_what_it_should() {
    let text = "# Example Usage\n## IAM permissions\n### Nested Schema for `assume_role`\n## IAM permissions\n```\n# not a heading\n```\n";
    let found = anchors(text);
    for anchor in [
        "example-usage",
        "iam-permissions",
        "iam-permissions-1",
        "nested-schema-for-assume_role",
    ] {
        assert!(found.contains(anchor), "{anchor} in {found:?}");
    }
    assert!(!found.contains("not-a-heading"));
    assert_eq!(
        link_targets("see [a](x.md#b) and [c](https://e.org \"t\") [d](#e)"),
        ["x.md#b", "https://e.org", "#e"]
    );

    // A link to a missing heading and one to a missing file are both reported.
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("a.md"), "# Here\n").expect("write");
    let page = dir.path().join("b.md");
    std::fs::write(
        &page,
        "[ok](a.md#here) [gone](a.md#there) [missing](c.md)\n",
    )
    .expect("write");
    let broken = broken_links(dir.path(), &page);
    assert_eq!(
        broken,
        [
            "b.md: a.md#there (no such heading)",
            "b.md: c.md (no such file)"
        ]
    );
}

/// Each resource page shows its example exactly as `examples/resources/<type>/` holds it, and
/// those files are what the resource tests apply and import, so the page's example is applied.
#[test]
fn resource_pages_show_the_applied_examples_verbatim() {
    let root = workspace_root();
    // Every resource type the provider serves, as Terraform reads it from the provider itself,
    // so that a new resource without a page or an example fails here.
    let wd = Workdir::new(&Terraform::default());
    wd.write_main("");
    let schema = wd.providers_schema();
    let types: Vec<String> = schema["provider_schemas"]
        ["registry.terraform.io/imagecopier/imagecopier"]["resource_schemas"]
        .as_object()
        .map(|types| types.keys().cloned().collect())
        .unwrap_or_default();
    assert!(!types.is_empty(), "no resource types in {schema}");
    for example in &types {
        let page = format!(
            "{}.md",
            example.strip_prefix("imagecopier_").unwrap_or(example)
        );
        let text = std::fs::read_to_string(root.join("docs/resources").join(&page))
            .unwrap_or_else(|err| panic!("{page}: {err}"));
        let dir = root.join("examples/resources").join(example);
        let resource = std::fs::read_to_string(dir.join("resource.tf"))
            .unwrap_or_else(|err| panic!("{example}/resource.tf: {err}"));
        assert!(
            text.contains(&format!("```terraform\n{resource}```")),
            "{page} does not show {example}/resource.tf as it is"
        );
        let import = std::fs::read_to_string(dir.join("import.sh"))
            .unwrap_or_else(|err| panic!("{example}/import.sh: {err}"));
        let command = import
            .lines()
            .find(|l| l.starts_with("terraform import"))
            .unwrap_or_else(|| panic!("{example}/import.sh has no import command"));
        assert!(
            text.contains(&format!("```shell\n{command}\n```")),
            "{page} does not show {example}/import.sh's command"
        );
    }
}

/// Whether `page` shows `file` byte for byte in a fence of `lang`.
fn shows(page: &str, lang: &str, file: &str) -> bool {
    page.contains(&format!("```{lang}\n{file}```"))
}

#[test]
fn new_pages_show_their_examples_verbatim() {
    // Every data source and list resource the provider serves (read from the provider, so a
    // new one without a page fails here), the import-by-identity examples, and the migration
    // guide's example; each example is applied by an end-to-end test.
    let root = workspace_root();
    let read = |path: &str| {
        std::fs::read_to_string(root.join(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
    };
    let wd = Workdir::new(&Terraform::default());
    wd.write_main("");
    let schema = wd.providers_schema();
    let provider = &schema["provider_schemas"]["registry.terraform.io/imagecopier/imagecopier"];
    let names = |key: &str| -> Vec<String> {
        provider[key]
            .as_object()
            .map(|types| types.keys().cloned().collect())
            .unwrap_or_default()
    };
    let data_sources = names("data_source_schemas");
    assert!(!data_sources.is_empty(), "no data sources in {provider}");
    for name in &data_sources {
        let short = name.strip_prefix("imagecopier_").unwrap_or(name);
        let page = read(&format!("docs/data-sources/{short}.md"));
        let example = read(&format!("examples/data-sources/{name}/data-source.tf"));
        assert!(
            shows(&page, "terraform", &example),
            "{short}.md does not show data-source.tf as it is"
        );
    }
    let listed = names("list_resource_schemas");
    assert_eq!(listed.len(), 2, "{provider}");
    for name in &listed {
        let short = name.strip_prefix("imagecopier_").unwrap_or(name);
        let page = read(&format!("docs/list-resources/{short}.md"));
        let dir = root.join("examples/list-resources").join(name);
        let files =
            std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        for file in files {
            let text = std::fs::read_to_string(file.expect("entry").path()).expect("example");
            assert!(
                shows(&page, "hcl", &text),
                "{short}.md does not show its example as it is"
            );
        }
        let resource_page = read(&format!("docs/resources/{short}.md"));
        let import = read(&format!("examples/resources/{name}/import-by-identity.tf"));
        assert!(
            shows(&resource_page, "terraform", &import),
            "{short}.md does not show import-by-identity.tf as it is"
        );
    }
    let functions = names("functions");
    assert_eq!(
        functions,
        vec!["key_policy_statements".to_owned()],
        "{provider}"
    );
    for name in &functions {
        let page = read(&format!("docs/functions/{name}.md"));
        let example = read(&format!("examples/functions/{name}/function.tf"));
        assert!(
            shows(&page, "terraform", &example),
            "{name}.md does not show function.tf as it is"
        );
    }
    let guide = read("docs/guides/migrating.md");
    let moved = read("examples/migrate-from-aws-ami-copy/main.tf");
    assert!(
        shows(&guide, "terraform", &moved),
        "migrating.md does not show the moved example"
    );
}
