use crate::de::enum_;
use crate::internals::ast::Variant;
use proc_macro2::TokenStream;
use quote::quote;

/// Generates `Deserialize::deserialize` body for an enum with `serde(tag = "type")` attribute.
pub(super) fn deserialize(variants: &[Variant], tag: &str) -> TokenStream {
    let (variants_stmt, variant_visitor) = enum_::prepare_variant_enum(variants);
    quote! {
        #variant_visitor
        #variants_stmt
        let __tagged = _serde::Deserializer::deserialize_any(__deserializer, #tag)?;
    }
}
