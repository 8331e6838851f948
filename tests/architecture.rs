//! The shape of the code, checked: no module depends on another that depends back on it, and every
//! module says in its first line what it is for.
//!
//! A dependency is any `crate::a::…` or `super::a::…` path in a module's code (comments and test
//! code left out). Cycles are looked for between the crate's top-level modules (`dialog`,
//! `workflow`, `web`, …) and between the sibling modules inside each of them (`web::inbox` and
//! `web::manage`, …). A parent and its own children are not siblings: a child using its parent's
//! items is how Rust modules share code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its module path (`src/web/inbox/mod.rs` → `["web", "inbox"]`).
fn modules() -> Vec<(Vec<String>, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            (parts, path)
        })
        .collect()
}

/// The code of a module without comments and without its test code (`#[cfg(test)]` to the end,
/// where this project keeps it).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The module paths named in `code` (`crate::a::b::Item` → `["a", "b", "Item"]`), with `super::`
/// resolved against `module`, the module the code is in (for `src/web/inbox/mod.rs` that is
/// `web::inbox`, whose `super` is `web`).
fn paths_in(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !ident(bytes[i - 1]);
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let (prefix, base): (usize, Vec<String>) = if starts_word && rest.starts_with("crate::") {
            (7, Vec::new())
        } else if starts_word && rest.starts_with("super::") {
            (7, module[..module.len().saturating_sub(1)].to_vec())
        } else {
            i += 1;
            continue;
        };
        let mut j = i + prefix;
        let mut path = base;
        loop {
            let start = j;
            while j < bytes.len() && ident(bytes[j]) {
                j += 1;
            }
            if start == j {
                break;
            }
            path.push(bytes[start..j].iter().collect());
            if bytes.get(j) == Some(&':') && bytes.get(j + 1) == Some(&':') {
                j += 2;
            } else {
                break;
            }
        }
        found.push(path);
        i = j.max(i + 1);
    }
    found
}

/// Looks for a cycle in `graph`; returns it as a list of nodes, the first repeated at the end.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut found = stack[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, stack, done) {
                return Some(found);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// Dependencies between the modules at `depth` (1: top level; 2: siblings inside a top-level
/// module), keyed by their joined path.
fn dependencies(depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let known: BTreeSet<Vec<String>> = modules.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &modules {
        if module.len() < depth || module.iter().any(|p| p == "tests" || p.ends_with("_tests")) {
            continue;
        }
        if module == &["lib"] || module == &["main"] {
            continue;
        }
        let from = &module[..depth];
        for target in paths_in(&code_of(path), module) {
            // The longest prefix of the path that is a module of this crate.
            let Some(len) = (1..=target.len()).rev().find(|n| known.contains(&target[..*n])) else { continue };
            let to = &target[..len];
            if to.len() < depth || to[..depth - 1] != from[..depth - 1] || to[..depth] == *from {
                continue;
            }
            graph.entry(from.join("::")).or_default().insert(to[..depth].join("::"));
        }
    }
    graph
}

#[test]
fn the_top_level_modules_depend_on_each_other_without_cycles() {
    let graph = dependencies(1);
    assert!(graph.get("dialog").is_some_and(|d| d.contains("store")), "the scan must see dialog → store: {graph:?}");
    assert_eq!(cycle(&graph), None, "a cycle between top-level modules; the graph: {graph:#?}");
}

#[test]
fn sibling_modules_depend_on_each_other_without_cycles() {
    let graph = dependencies(2);
    assert!(!graph.is_empty(), "the scan must see dependencies between sibling modules");
    assert_eq!(cycle(&graph), None, "a cycle between sibling modules; the graph: {graph:#?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    assert_eq!(cycle(&graph), None);
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(cycle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let module = vec!["web".to_string(), "inbox".to_string(), "detail".to_string()];
    let found = paths_in("use super::export::Csv; x = crate::store::Store::x(); my_crate::web", &module);
    assert_eq!(found, vec![vec!["web", "inbox", "export", "Csv"], vec!["store", "Store", "x"]]);
}

#[test]
fn every_module_says_what_it_is_for_in_its_first_line() {
    let missing: Vec<String> = modules()
        .into_iter()
        .filter(|(_, path)| {
            let text = std::fs::read_to_string(path).unwrap();
            let first = text.lines().next().unwrap_or_default();
            !(first.starts_with("//!") && first.trim_start_matches("//!").trim().len() > 10)
        })
        .map(|(_, path)| path.display().to_string())
        .collect();
    assert!(missing.is_empty(), "modules without a one-line `//!` header: {missing:#?}");
}
