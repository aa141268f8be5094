pub mod feed;
pub mod pages;
pub mod text;
