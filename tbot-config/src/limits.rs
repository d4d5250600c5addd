//! Bounds on a configuration's text, checked before the YAML parser sees it.
//!
//! The YAML parser tracks every open flow collection (`[`, `{`) on a stack it
//! rescans per token, so a few hundred kilobytes of `[[[[…` cost it tens of
//! seconds before it reports its own recursion limit. A tbot configuration
//! is a few hundred bytes nested a few levels deep, so both its size and its
//! flow nesting are bounded far above any real file, and refused in one pass
//! over the text.

/// The largest configuration accepted.
pub(crate) const MAX_BYTES: usize = 1024 * 1024;
/// The deepest flow nesting (`[` / `{`) accepted.
pub(crate) const MAX_FLOW_DEPTH: usize = 64;

/// Checks the text's size and flow nesting; the message says which limit and where.
pub(crate) fn check(text: &str) -> Result<(), String> {
    if text.len() > MAX_BYTES {
        return Err(format!("the configuration is {} bytes, more than the {MAX_BYTES} accepted", text.len()));
    }
    let mut depth = 0usize;
    // Quoted scalars may span lines; comments end with theirs.
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (line, content) in text.split('\n').enumerate() {
        let mut comment = false;
        let mut previous = ' ';
        for c in content.chars() {
            match (quote, c) {
                _ if comment => {}
                (Some('"'), _) if escaped => escaped = false,
                (Some('"'), '\\') => escaped = true,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                // A quote opens a quoted scalar only where a scalar starts (`it's` is plain).
                (None, '"' | '\'') if previous.is_whitespace() || matches!(previous, '[' | '{' | ',' | ':') => {
                    quote = Some(c)
                }
                (None, '#') if previous.is_whitespace() => comment = true,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Err(format!(
                            "collections are nested more than {MAX_FLOW_DEPTH} levels deep at line {}",
                            line + 1
                        ));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_and_huge_files_are_refused_quickly() {
        let deep = format!("outputs: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(check(&deep).unwrap_err().contains("nested more than 64 levels deep at line 1"));
        assert!(check(&"a: 1\n".repeat(300_000)).unwrap_err().contains("more than the 1048576 accepted"));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let text = format!(
            "version: v2 # {open}\ntoken: \"{open}\"\nother: '{open}'\nlist: [{{a: [1]}}]\nesc: \"\\\" {open}\"\n",
            open = "[".repeat(100)
        );
        check(&text).unwrap();
        // An apostrophe inside a plain scalar opens nothing.
        let deep = format!("token: it's\nlist: {}", "[".repeat(100));
        assert!(check(&deep).is_err());
    }
}
