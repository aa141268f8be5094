//! The site's feed.

use crate::pages::Page;
use crate::text::slugify;

pub fn titles(pages: &[Page]) -> Vec<String> {
    pages.iter().map(|p| p.title.clone()).collect()
}

pub fn ids(pages: &[Page]) -> Vec<String> {
    pages.iter().map(|p| slugify(&p.title)).collect()
}
