use crate::internals::ast::Variant;
use proc_macro2::TokenStream;
use quote::quote;

/// Generates `Deserialize::deserialize` body for an enum with external representation.
pub(super) fn deserialize(variants: &[Variant]) -> TokenStream {
    let (variants_stmt, variant_visitor) = prepare_variant_enum(variants);
    quote! {
        #variants_stmt
        #variant_visitor
    }
}

pub(super) fn prepare_variant_enum(variants: &[Variant]) -> (TokenStream, TokenStream) {
    let names = variants.iter().map(|variant| &variant.ident);
    let variants_stmt = quote! {
        const VARIANTS: &'static [&'static str] = &[ #(stringify!(#names)),* ];
    };
    (variants_stmt, TokenStream::new())
}
