//! GUIDs as Azure and Entra ID write them: `8-4-4-4-12` hex digits.

/// Whether `s` is a GUID in its hyphenated form (either case), the only form
/// Azure uses in resource names, tenant, client and principal ids.
/// `uuid` also accepts braced, URN and unhyphenated forms, which Azure does not.
pub fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hyphenated_form() {
        assert!(is_guid("acdd72a7-3385-48ef-bd42-f606fba81ae7"));
        assert!(is_guid("ACDD72A7-3385-48EF-BD42-F606FBA81AE7"));
        assert!(!is_guid("acdd72a7338548efbd42f606fba81ae7"));
        assert!(!is_guid("{acdd72a7-3385-48ef-bd42-f606fba81ae7}"));
        assert!(!is_guid("urn:uuid:acdd72a7-3385-48ef-bd42-f606fba81ae"));
        assert!(!is_guid("acdd72a7-3385-48ef-bd42-f606fba81aeg"));
        assert!(!is_guid(""));
    }
}
