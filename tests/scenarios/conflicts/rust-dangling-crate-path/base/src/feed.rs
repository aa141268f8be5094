//! The site's feed.

use crate::pages::Page;

pub fn titles(pages: &[Page]) -> Vec<String> {
    pages.iter().map(|p| p.title.clone()).collect()
}
