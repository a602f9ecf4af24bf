//! The crate's modules import each other without circles (issue 14): every `crate::…` and `super::…` path in a
//! source file is an edge from that file's module to the module it names (the longest prefix that is a file; `mod`
//! declarations are not edges). The graph among files and the graph among top-level modules must both be acyclic.
//! `cargo test -p zkinfer-circuits --test module_dag -- --nocapture` prints the top-level edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;
type Graph = BTreeMap<Module, BTreeSet<Module>>;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `gadgets/dot.rs` → [gadgets, dot]; `gadgets/mod.rs` → [gadgets]; `lib.rs` → [].
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut m: Module = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if matches!(m.last().map(String::as_str), Some("mod" | "lib")) {
        m.pop();
    }
    m
}

/// The `::`-separated words after each occurrence of `head` (`crate`, `super`), with `{a, b}` groups expanded.
fn paths_after(text: &str, head: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices(head) {
        let before = text[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[i + head.len()..];
        let mut words = Vec::new();
        let mut s = rest;
        while let Some(t) = s.strip_prefix("::") {
            if let Some(group) = t.strip_prefix('{') {
                let body = &group[..group.find('}').unwrap_or(group.len())];
                for item in body.split(',') {
                    let w: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    let mut p = words.clone();
                    p.push(w);
                    out.push(p);
                }
                break;
            }
            let w: String = t.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if w.is_empty() {
                break;
            }
            s = &t[w.len()..];
            words.push(w);
        }
        out.push(words);
    }
    out
}

fn resolve(files: &BTreeSet<Module>, mut path: Module) -> Module {
    while !path.is_empty() && !files.contains(&path) {
        path.pop();
    }
    path
}

fn graph() -> Graph {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut g = Graph::new();
    for f in &files {
        let m = module_of(&src, f);
        let text: String = std::fs::read_to_string(f).unwrap().lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n");
        let parent = m[..m.len().saturating_sub(1)].to_vec();
        let mut targets: Vec<Module> = paths_after(&text, "crate").into_iter().map(|p| resolve(&modules, p)).collect();
        targets.extend(paths_after(&text, "super").into_iter().map(|p| resolve(&modules, [parent.clone(), p].concat())));
        let edges = g.entry(m.clone()).or_default();
        edges.extend(targets.into_iter().filter(|t| !t.is_empty() && *t != m));
    }
    g
}

/// A cycle of `g`, if it has one.
fn cycle(g: &Graph) -> Option<Vec<Module>> {
    fn visit(g: &Graph, n: &Module, stack: &mut Vec<Module>, done: &mut BTreeSet<Module>) -> Option<Vec<Module>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            return Some(stack[i..].iter().cloned().chain([n.clone()]).collect());
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.clone());
        for t in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, t, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.clone());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|n| visit(g, n, &mut Vec::new(), &mut done))
}

#[test]
fn modules_import_each_other_without_circles() {
    let files = graph();
    let mut top = Graph::new();
    for (m, ts) in &files {
        for t in ts {
            if !m.is_empty() && m[0] != t[0] {
                top.entry(m[..1].to_vec()).or_default().insert(t[..1].to_vec());
            }
        }
    }
    for (m, ts) in &top {
        println!("{} -> {}", m[0], ts.iter().map(|t| t[0].as_str()).collect::<Vec<_>>().join(", "));
    }
    let show = |c: Vec<Module>| c.iter().map(|m| m.join("::")).collect::<Vec<_>>().join(" -> ");
    assert!(cycle(&files).is_none(), "import circle among files: {}", show(cycle(&files).unwrap()));
    assert!(cycle(&top).is_none(), "import circle among modules: {}", show(cycle(&top).unwrap()));
}
