//! Symbol names as the linker script of `whatif-bench layout` names them.

/// A function's name as a pattern, or `None` for a name that is not a symbol
/// (callgrind's `0x…` for code without one).
///
/// What differs between builds becomes `*`: an LTO-promoted local's
/// `.llvm.<n>` suffix; in a v0 name (`_R…`, the workspace's mangling) each
/// crate's disambiguator (`Cs<base-62>_`, a hash of the crate's build, so
/// different for arm64) and the back-references that count bytes past it
/// (`B<base-62>_`); in a legacy name (`_ZN…`, the C-like one) the hash that
/// ends it. A v0 name spells out a generic function's type arguments, so
/// its pattern names that one instance; a legacy one names them all.
pub fn pattern(name: &str) -> Option<String> {
    // callgrind marks a recursive function's inner calls `name'2`.
    let name = name.split('\'').next().unwrap_or(name);
    if name.starts_with("0x") || name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let (name, suffix) = match name.split_once(".llvm.") {
        Some((head, _)) => (head, "*"),
        None => (name, ""),
    };
    let body = if name.starts_with("_R") {
        let mut out = String::with_capacity(name.len());
        let bytes = name.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // `Cs<base-62>_` (a crate) and `B<base-62>_` (a back-reference).
            let (tag, longest) = match bytes[i] {
                b'C' if bytes.get(i + 1) == Some(&b's') => (2, 13),
                b'B' => (1, 4),
                _ => (0, 0),
            };
            let digits = bytes[(i + tag).min(bytes.len())..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            if tag > 0 && (1..=longest).contains(&digits) && bytes.get(i + tag + digits) == Some(&b'_') {
                out.push_str(&name[i..i + tag]);
                out.push_str("*_");
                i += tag + digits + 1;
            } else {
                out.push(bytes[i] as char);
                i += 1;
            }
        }
        out
    } else {
        // Rust's legacy mangling ends a path with `17h` and a 16-digit hash, then `E`.
        match name.strip_suffix('E').and_then(|n| n.len().checked_sub(16).map(|i| n.split_at(i))) {
            Some((head, hash)) if head.ends_with("17h") && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                return Some(format!("{head}*"));
            }
            _ => name.to_string(),
        }
    };
    Some(format!("{body}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_symbol_loses_its_hash_and_a_c_symbol_keeps_its_name() {
        assert_eq!(
            pattern("_ZN5tokio7runtime4task3raw4poll17h0123456789abcdefE").as_deref(),
            Some("_ZN5tokio7runtime4task3raw4poll17h*")
        );
        assert_eq!(
            pattern("_ZN4core3ptr13drop_in_place17hfedcba9876543210E.llvm.12345").as_deref(),
            Some("_ZN4core3ptr13drop_in_place17h*")
        );
        assert_eq!(pattern("aws_lc_0_30_sha256_init").as_deref(), Some("aws_lc_0_30_sha256_init"));
        assert_eq!(
            pattern("_RNvMNtCsgEmfK2I1SDS_4core3strB2T_5write'2").as_deref(),
            Some("_RNvMNtCs*_4core3strB*_5write")
        );
        // An identifier's own letters stay as they are.
        assert_eq!(pattern("_RNvCs1a2b3c_7mycrate8BTreeMap").as_deref(), Some("_RNvCs*_7mycrate8BTreeMap"));
        assert_eq!(pattern("_RNvCs1a_3foo3bar.llvm.42").as_deref(), Some("_RNvCs*_3foo3bar*"));
        assert_eq!(pattern("0x0000000000123abc"), None);
    }
}
