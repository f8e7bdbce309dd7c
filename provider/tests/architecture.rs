//! ARCHITECTURE.md, enforced: the layer orders it declares and the "where it
//! is tested" table it keeps.
//!
//! The orders are read from ARCHITECTURE.md itself (its ```` ```layers ````
//! blocks), so the map and this test cannot disagree: a file added to a
//! checked folder must be placed on a floor there, and an import that runs
//! up, or sideways between two modules on one floor, fails here with the
//! file, line and path that make it. Imports are read as text (`use` lines
//! and inline `crate::` / `super::` paths), the way a reviewer reads them;
//! a path through a module's `pub use` re-export counts as an arrow to the
//! file that defines the name. Unit tests (`#[cfg(test)] mod tests { … }`
//! and `tests.rs` files) are left out: they may look at any layer.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The provider's sources, the map and the end-to-end tests, from this
/// package's directory.
fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the provider package sits in the workspace")
        .to_path_buf()
}

fn architecture() -> String {
    let path = repo_dir().join("ARCHITECTURE.md");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A module path below `crate`, e.g. `["aws", "image"]`; `[]` is the crate root.
type ModPath = Vec<String>;

/// One production source file of the provider, as the checks see it.
#[derive(Debug)]
struct SourceFile {
    /// Relative to `provider/src`, with `/` separators.
    rel: String,
    module: ModPath,
    /// Production text: comments and unit-test modules removed, one entry a
    /// line (numbers kept for the messages).
    lines: Vec<(usize, String)>,
}

/// Every `.rs` file below `provider/src`, test-only files excluded.
fn source_files() -> Vec<SourceFile> {
    let root = src_dir();
    let mut paths = Vec::new();
    collect_rs(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let rel = path
                .strip_prefix(&root)
                .expect("below src")
                .to_string_lossy()
                .replace('\\', "/");
            let is_test = rel.ends_with("/tests.rs")
                || rel == "tests.rs"
                || rel.split('/').any(|part| part == "tests");
            if is_test {
                return None;
            }
            let text = fs::read_to_string(&path).expect("source is UTF-8");
            Some(SourceFile {
                module: module_of(&rel),
                lines: production_lines(&text),
                rel,
            })
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `aws/image.rs` is `aws::image`, `aws/mod.rs` is `aws`; `lib.rs` and
/// `main.rs` are crate roots.
fn module_of(rel: &str) -> ModPath {
    let stem = rel.trim_end_matches(".rs");
    let mut parts: ModPath = stem.split('/').map(str::to_owned).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The lines that ship: `//` comments cut off, and each `#[cfg(test)]`
/// inline module (`mod name {` up to its closing `}` at column 0) left out.
fn production_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, line)) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            let inline_module = lines.peek().is_some_and(|(_, next)| {
                next.starts_with("mod ") && next.trim_end().ends_with('{')
            });
            if inline_module {
                for (_, skipped) in lines.by_ref() {
                    if skipped == "}" {
                        break;
                    }
                }
            }
            continue;
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push((index + 1, code.to_owned()));
    }
    out
}

/// A path a file names: where, and its segments (`crate`, `aws`, `image`, …).
#[derive(Debug, Clone)]
struct Named {
    line: usize,
    segments: Vec<String>,
}

/// A `use` declaration: its first line, whether it re-exports (`pub`,
/// `pub(crate)`, `pub(super)`), and its tree (`a::{b, c}`).
struct UseDecl {
    line: usize,
    public: bool,
    tree: String,
}

/// The `use` declarations of a file (each may span lines), and the other
/// lines with their numbers.
fn split_uses(file: &SourceFile) -> (Vec<UseDecl>, Vec<(usize, &str)>) {
    let (mut uses, mut other) = (Vec::new(), Vec::new());
    let mut statement = String::new();
    let mut first = 0;
    for (number, line) in &file.lines {
        if statement.is_empty() && !is_use(line.trim_start()) {
            other.push((*number, line.as_str()));
            continue;
        }
        if statement.is_empty() {
            first = *number;
        }
        statement.push_str(line);
        statement.push(' ');
        if let Some(end) = statement.find(';') {
            let body = statement[..end].trim();
            let public = body.starts_with("pub");
            let tree = ["pub(crate) ", "pub(super) ", "pub "]
                .iter()
                .find_map(|p| body.strip_prefix(p))
                .unwrap_or(body);
            uses.push(UseDecl {
                line: first,
                public,
                tree: tree.trim_start_matches("use ").trim().to_owned(),
            });
            statement.clear();
        }
    }
    (uses, other)
}

/// Every `crate::…`, `super::…` and `self::…` path in a file, from its
/// `use` declarations (groups expanded) and from inline code.
fn named_paths(file: &SourceFile) -> Vec<Named> {
    let (uses, other) = split_uses(file);
    let mut out = Vec::new();
    for decl in uses {
        for segments in expand_use(&decl.tree) {
            if matches!(
                segments.first().map(String::as_str),
                Some("crate" | "super" | "self")
            ) {
                out.push(Named {
                    line: decl.line,
                    segments,
                });
            }
        }
    }
    for (number, line) in other {
        for segments in inline_paths(line) {
            out.push(Named {
                line: number,
                segments,
            });
        }
    }
    out
}

fn is_use(trimmed: &str) -> bool {
    ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
        .iter()
        .any(|p| trimmed.starts_with(p))
}

/// `a::{b, c::{d, e as f}, self}` as `[a,b]`, `[a,c,d]`, `[a,c,e]`, `[a]`.
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    if tree.is_empty() {
        return Vec::new();
    }
    let (head, group) = match tree.find('{') {
        Some(open) => {
            let close = tree.rfind('}').expect("a use group closes");
            (&tree[..open], Some(&tree[open + 1..close]))
        }
        None => (tree, None),
    };
    let head = head.split(" as ").next().unwrap_or(head);
    let prefix: Vec<String> = head
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "*")
        .map(str::to_owned)
        .collect();
    let Some(group) = group else {
        return vec![prefix];
    };
    let mut out = Vec::new();
    for part in split_top_level(group) {
        for rest in expand_use(&part) {
            let mut segments = prefix.clone();
            segments.extend(rest.into_iter().filter(|s| s != "self"));
            out.push(segments);
        }
    }
    out
}

/// Splits a use group at its top-level commas.
fn split_top_level(group: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth) = (Vec::new(), String::new(), 0);
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// Paths such as `crate::aws::copy::failure(` written in code, not in a
/// `use`. `$crate` (inside a macro) is the crate that defines the macro and
/// is skipped.
fn inline_paths(line: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    for root in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(found) = line[from..].find(root) {
            let at = from + found;
            from = at + root.len();
            let before = at.checked_sub(1).map(|i| bytes[i]);
            if before
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b':')
            {
                continue;
            }
            let end = line[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .map_or(line.len(), |e| at + e);
            let segments = line[at..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            out.push(segments);
        }
    }
    out
}

/// The files of the crate by module path, and what each re-exports.
struct Crate {
    by_module: BTreeMap<ModPath, usize>,
    files: Vec<SourceFile>,
    /// For a module file: a name it re-exports (`pub use x::Name`) and the
    /// path, from the crate root, it came from.
    reexports: Vec<BTreeMap<String, Vec<String>>>,
}

impl Crate {
    fn load() -> Self {
        let files: Vec<SourceFile> = source_files()
            .into_iter()
            .filter(|f| f.rel != "main.rs")
            .collect();
        let by_module = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.clone(), i))
            .collect();
        let mut krate = Self {
            by_module,
            reexports: Vec::new(),
            files,
        };
        krate.reexports = (0..krate.files.len())
            .map(|i| krate.reexports_of(i))
            .collect();
        krate
    }

    fn reexports_of(&self, index: usize) -> BTreeMap<String, Vec<String>> {
        let file = &self.files[index];
        let mut out = BTreeMap::new();
        for decl in split_uses(file).0.into_iter().filter(|d| d.public) {
            for segments in expand_use(&decl.tree) {
                let Some(name) = segments.last().cloned() else {
                    continue;
                };
                if let Some(absolute) = self.absolute(&file.module, &segments) {
                    out.insert(name, absolute);
                }
            }
        }
        out
    }

    /// `super::x` and `self::x` from `module`, or a bare `x` naming a
    /// child module, as a path from the crate root.
    fn absolute(&self, module: &ModPath, segments: &[String]) -> Option<Vec<String>> {
        let mut base = module.clone();
        let mut rest = segments;
        match segments.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &segments[1..];
            }
            Some("self") => rest = &segments[1..],
            Some("super") => {
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            _ => {
                // A bare path is relative to this module only when it names
                // a child module (`pub use clients::AwsClients`).
                let mut child = base.clone();
                child.push(segments.first()?.clone());
                if !self.by_module.contains_key(&child) {
                    return None;
                }
            }
        }
        let mut out = base;
        out.extend(rest.iter().cloned());
        Some(out)
    }

    /// The file that defines what `segments` (from the crate root) name:
    /// the deepest module on the path, followed through its re-exports.
    fn resolve(&self, absolute: &[String]) -> Option<usize> {
        let mut path = absolute.to_vec();
        for _ in 0..8 {
            let mut depth = 0;
            while depth < path.len() && self.by_module.contains_key(&path[..=depth]) {
                depth += 1;
            }
            let module = path[..depth].to_vec();
            let index = *self.by_module.get(&module)?;
            match path
                .get(depth)
                .and_then(|name| self.reexports[index].get(name))
            {
                Some(source) if source.as_slice() != path.as_slice() => {
                    let mut next = source.clone();
                    next.extend(path[depth + 1..].iter().cloned());
                    path = next;
                }
                _ => return Some(index),
            }
        }
        None
    }

    /// Every arrow between two files: (from, to, line, the path as written).
    fn arrows(&self) -> Vec<(usize, usize, usize, String)> {
        let mut out = Vec::new();
        for (from, file) in self.files.iter().enumerate() {
            for named in named_paths(file) {
                let Some(absolute) = self.absolute(&file.module, &named.segments) else {
                    continue;
                };
                let Some(to) = self.resolve(&absolute) else {
                    continue;
                };
                if to != from {
                    out.push((from, to, named.line, named.segments.join("::")));
                }
            }
        }
        out
    }
}

/// One ```` ```layers ```` block of ARCHITECTURE.md: a folder below
/// `provider/src` (`.` for the crate root) and its floors, top first.
#[derive(Debug)]
struct Order {
    folder: String,
    floors: Vec<Vec<String>>,
}

fn declared_orders(map: &str) -> Vec<Order> {
    let mut orders = Vec::new();
    let mut lines = map.lines();
    while let Some(line) = lines.next() {
        let Some(folder) = line.trim().strip_prefix("```layers ") else {
            continue;
        };
        let mut floors = Vec::new();
        for floor in lines.by_ref() {
            if floor.trim() == "```" {
                break;
            }
            let names: Vec<String> = floor
                .split_whitespace()
                .take_while(|w| !w.starts_with('#'))
                .map(str::to_owned)
                .collect();
            if !names.is_empty() {
                floors.push(names);
            }
        }
        orders.push(Order {
            folder: folder.trim().trim_end_matches('/').to_owned(),
            floors,
        });
    }
    orders
}

impl Order {
    fn module(&self) -> ModPath {
        match self.folder.as_str() {
            "provider/src" => Vec::new(),
            other => other
                .trim_start_matches("provider/src/")
                .split('/')
                .map(str::to_owned)
                .collect(),
        }
    }

    fn floor_of(&self, name: &str) -> Option<usize> {
        self.floors.iter().position(|f| f.iter().any(|n| n == name))
    }

    /// The child of the folder a module belongs to (`mod` for the folder's
    /// own `mod.rs`, `lib` for the crate root), or `None` outside it.
    fn child(&self, module: &ModPath) -> Option<String> {
        let folder = self.module();
        if !module.starts_with(&folder) {
            return None;
        }
        Some(match module.get(folder.len()) {
            Some(child) => child.clone(),
            None if folder.is_empty() => "lib".to_owned(),
            None => "mod".to_owned(),
        })
    }
}

/// What each checked folder holds: its `.rs` files and subfolders, as the
/// names a floor lists (`main` and `lib` at the root, `mod` for `mod.rs`).
fn children(folder: &Path) -> BTreeSet<String> {
    fs::read_dir(folder)
        .expect("a declared folder exists")
        .map(|e| e.expect("readable entry").path())
        .filter_map(|path| {
            if path.is_dir() {
                path.file_name().map(|n| n.to_string_lossy().into_owned())
            } else if path.extension().is_some_and(|e| e == "rs") {
                path.file_stem().map(|n| n.to_string_lossy().into_owned())
            } else {
                None
            }
        })
        .filter(|name| name != "tests")
        .collect()
}

/// The problems the declared orders find in the crate, one line each.
fn layer_problems(map: &str) -> Vec<String> {
    let krate = Crate::load();
    let arrows = krate.arrows();
    let mut problems = Vec::new();
    let orders = declared_orders(map);
    for order in &orders {
        let on_disk = children(&repo_dir().join(&order.folder));
        for name in &on_disk {
            if order.floor_of(name).is_none() {
                problems.push(format!(
                    "{}: {name} is on no floor of ARCHITECTURE.md's order for this folder",
                    order.folder
                ));
            }
        }
        for floor in &order.floors {
            for name in floor.iter().filter(|n| !on_disk.contains(*n)) {
                problems.push(format!(
                    "{}: the order names {name}, which is not there",
                    order.folder
                ));
            }
        }
        let mut seen = 0;
        for (from, to, line, path) in &arrows {
            let (a, b) = (&krate.files[*from], &krate.files[*to]);
            let (Some(upper), Some(lower)) = (order.child(&a.module), order.child(&b.module))
            else {
                continue;
            };
            if upper == lower {
                continue;
            }
            seen += 1;
            let (Some(up), Some(down)) = (order.floor_of(&upper), order.floor_of(&lower)) else {
                continue;
            };
            if up >= down {
                let how = if up == down { "sideways" } else { "back up" };
                problems.push(format!(
                    "{}: {}:{line} imports {path}, an arrow {how} from {upper} (floor {}) to {lower} (floor {}, {})",
                    order.folder,
                    a.rel,
                    up + 1,
                    down + 1,
                    b.rel
                ));
            }
        }
        // A reader that finds nothing passes everything: a checked folder
        // always has arrows between its files.
        if seen == 0 {
            problems.push(format!(
                "{}: no import between its files was read",
                order.folder
            ));
        }
    }
    problems.extend(circles(&krate, &arrows));
    problems
}

/// Import circles between files (Tarjan's strongly connected components).
fn circles(krate: &Crate, arrows: &[(usize, usize, usize, String)]) -> Vec<String> {
    let n = krate.files.len();
    let mut next: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (from, to, _, _) in arrows {
        next[*from].insert(*to);
    }
    struct Walk<'a> {
        next: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        counter: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(w: &mut Walk<'_>, v: usize) {
        w.index[v] = Some(w.counter);
        w.low[v] = w.counter;
        w.counter += 1;
        w.stack.push(v);
        w.on_stack[v] = true;
        for &u in w.next[v].iter() {
            match w.index[u] {
                None => {
                    visit(w, u);
                    w.low[v] = w.low[v].min(w.low[u]);
                }
                Some(i) if w.on_stack[u] => w.low[v] = w.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(w.low[v]) == w.index[v] {
            let mut component = Vec::new();
            while let Some(u) = w.stack.pop() {
                w.on_stack[u] = false;
                component.push(u);
                if u == v {
                    break;
                }
            }
            if component.len() > 1 {
                w.found.push(component);
            }
        }
    }
    let mut walk = Walk {
        next: &next,
        index: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on_stack: vec![false; n],
        counter: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if walk.index[v].is_none() {
            visit(&mut walk, v);
        }
    }
    walk.found
        .into_iter()
        .map(|component| {
            let mut names: Vec<&str> = component
                .iter()
                .map(|&i| krate.files[i].rel.as_str())
                .collect();
            names.sort_unstable();
            format!("import circle between {}", names.join(", "))
        })
        .collect()
}

#[test]
fn imports_run_down_the_declared_floors_with_no_circle() {
    let map = architecture();
    let orders = declared_orders(&map);
    let folders: Vec<&str> = orders.iter().map(|o| o.folder.as_str()).collect();
    // The house and the two rooms issue 29 asked to keep downhill; losing a
    // block from the map must not silently switch its check off.
    for wanted in [
        "provider/src",
        "provider/src/resources/encrypted_ami_copy",
        "provider/src/aws",
    ] {
        assert!(
            folders.contains(&wanted),
            "ARCHITECTURE.md declares no order for {wanted}"
        );
    }
    let problems = layer_problems(&map);
    assert!(
        problems.is_empty(),
        "{} problem(s) with ARCHITECTURE.md's layers:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Crates that only one layer may name (invariants 1 and 2).
const CONFINED: [(&str, &[&str]); 2] = [
    (
        "provider/src/aws/",
        &[
            "aws_sdk_",
            "aws_config",
            "aws_smithy_",
            "aws_types",
            "aws_credential_types",
        ],
    ),
    (
        "provider/src/protocol/",
        &["tfplugin_proto", "prost", "tonic"],
    ),
];

#[test]
fn sdk_and_protobuf_crates_stay_in_their_layer() {
    let mut problems = Vec::new();
    for file in source_files() {
        let path = format!("provider/src/{}", file.rel);
        for (home, crates) in CONFINED {
            if path.starts_with(home) {
                continue;
            }
            for (number, line) in &file.lines {
                for krate in crates {
                    if names_crate(line, krate) {
                        problems.push(format!(
                            "{path}:{number} names {krate}…, which only {home} may use"
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether `line` names the crate `prefix` starts (as a path root, not as
/// part of a longer word or string such as `"aws_sdk"` in a log field).
fn names_crate(line: &str, prefix: &str) -> bool {
    line.match_indices(prefix).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let starts_word =
            !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"');
        let word_end = line[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(line.len(), |e| at + e);
        starts_word && line[word_end..].starts_with("::")
    })
}

/// The EC2 actions that change something, by their SDK method's prefix.
const EC2_WRITES: &[&str] = &[
    "copy_",
    "create_",
    "delete_",
    "deregister_",
    "disable_",
    "enable_",
    "modify_",
    "register_",
    "reset_",
];

/// The EC2 client a method chain is made on, looking back from line `at`
/// of `lines` (a builder chain spans a few lines): `.ec2`, `.ec2_write()`,
/// `.ec2_marks()`, or another service's client (`None`).
fn ec2_receiver(lines: &[(usize, String)], at: usize) -> Option<&'static str> {
    for (_, line) in lines[..=at].iter().rev().take(4) {
        for (needle, name) in [
            (".ec2_write()", "ec2_write()"),
            (".ec2_marks()", "ec2_marks()"),
            (".kms", "kms"),
            (".rbin", "rbin"),
            (".sts", "sts"),
        ] {
            if line.contains(needle) {
                return (name.starts_with("ec2")).then_some(name);
            }
        }
        let bare = line.match_indices(".ec2").any(|(i, _)| {
            !line[i + 4..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        });
        if bare {
            return Some("ec2");
        }
    }
    None
}

/// Every EC2 write goes through `AwsClients::ec2_write` (which forgets the
/// caller-region's refresh listings first) or, for creation marks,
/// `ec2_marks`: a write on the bare client would leave a later refresh
/// reading a listing from before it (issue 29).
#[test]
fn every_ec2_write_goes_through_the_accessor_that_forgets_listings() {
    let mut problems = Vec::new();
    let mut writes = 0;
    for file in source_files().iter().filter(|f| f.rel.starts_with("aws/")) {
        for (index, (number, line)) in file.lines.iter().enumerate() {
            let method = line.trim_start();
            let is_write = method.starts_with('.')
                && method.contains("()")
                && EC2_WRITES
                    .iter()
                    .any(|prefix| method[1..].starts_with(prefix));
            if !is_write {
                continue;
            }
            match ec2_receiver(&file.lines, index) {
                Some("ec2") => problems.push(format!(
                    "provider/src/{}:{number}: {} on the bare EC2 client; use clients.ec2_write()",
                    file.rel,
                    method.trim_end()
                )),
                Some(_) => writes += 1,
                None => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        writes >= 10,
        "the check found only {writes} EC2 writes: is it still reading the code?"
    );
}

#[test]
fn the_write_check_tells_a_bare_client_from_the_accessor() {
    let lines = |text: &str| production_lines(text);
    let bare = lines("clients\n    .ec2\n    .create_tags()\n");
    assert_eq!(ec2_receiver(&bare, 2), Some("ec2"));
    let write = lines("clients\n    .ec2_write()\n    .create_tags()\n");
    assert_eq!(ec2_receiver(&write, 2), Some("ec2_write()"));
    let kms = lines("clients\n    .kms\n    .create_grant()\n");
    assert_eq!(ec2_receiver(&kms, 2), None);
}

#[test]
fn every_end_to_end_test_file_is_on_the_where_it_is_tested_table() {
    let map = architecture();
    let table: String = map
        .split("\n## ")
        .find(|section| section.starts_with("Where it is tested"))
        .expect("ARCHITECTURE.md has a \"Where it is tested\" section")
        .lines()
        .filter(|line| line.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = repo_dir().join("acceptance-tests/tests");
    let mut missing = Vec::new();
    let mut files: Vec<String> = fs::read_dir(&dir)
        .expect("acceptance-tests/tests exists")
        .map(|e| {
            e.expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".rs"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no end-to-end test files found in {}",
        dir.display()
    );
    for name in files {
        if !table.contains(&format!("`{name}`")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "end-to-end test files missing from ARCHITECTURE.md's \"Where it is tested\" table: {}",
        missing.join(", ")
    );
}

/// The reader must see what a reviewer sees, or the checks above prove
/// nothing: these pin its parsing on small inputs.
#[test]
fn the_reader_expands_groups_and_finds_inline_paths() {
    assert_eq!(
        expand_use("super::{a, b::{c, d as e}, self}"),
        vec![
            vec!["super", "a"],
            vec!["super", "b", "c"],
            vec!["super", "b", "d"],
            vec!["super"],
        ]
    );
    assert_eq!(
        inline_paths("let x = crate::aws::copy::failure(a, $crate::x::y);"),
        vec![vec!["crate", "aws", "copy", "failure"]]
    );
    let lines = production_lines(
        "use a;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\nfn f() {} // crate::x\n",
    );
    assert_eq!(
        lines,
        vec![(1, "use a;".to_owned()), (6, "fn f() {} ".to_owned())]
    );
    assert!(names_crate("use aws_sdk_ec2::Client;", "aws_sdk_"));
    assert!(!names_crate("log(\"aws_sdk_ec2::x\")", "aws_sdk_"));
    let orders = declared_orders("x\n```layers provider/src/a\ntop\nmid  other # why\nlow\n```\n");
    assert_eq!(
        orders[0].floors,
        vec![vec!["top"], vec!["mid", "other"], vec!["low"]]
    );
}
