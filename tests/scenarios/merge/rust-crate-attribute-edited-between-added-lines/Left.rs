// Licensed under the MIT license.

//! > **Tabular output for terminal programs**
//!
//! Quick links:
//! - [Tutorial][_tutorial]
//! - [Cookbook][_cookbook]

#![doc(html_logo_url = "https://example.org/logo.png")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::print_stderr)]

pub use table_core::*;

#[cfg(feature = "unstable-doc")]
pub mod _cookbook;
#[cfg(feature = "unstable-doc")]
pub mod _tutorial;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
