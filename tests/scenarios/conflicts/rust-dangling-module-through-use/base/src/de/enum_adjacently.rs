use crate::de::enum_;
use crate::internals::ast::Variant;
use proc_macro2::TokenStream;
use quote::quote;

/// Generates `Deserialize::deserialize` body for an enum with `serde(tag = "t", content = "c")`.
pub(super) fn deserialize(variants: &[Variant], tag: &str, content: &str) -> TokenStream {
    let body = enum_::deserialize(variants);
    quote! {
        let __tag = #tag;
        let __content = #content;
        #body
    }
}
