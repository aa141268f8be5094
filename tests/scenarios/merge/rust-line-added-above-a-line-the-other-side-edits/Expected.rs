use crate::ast::{Container, Field};
use crate::internals::deprecated::allow_deprecated;
use crate::internals::{attr, Ctxt};
use proc_macro2::TokenStream;
use quote::quote;

pub fn expand_encode(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let ctxt = Ctxt::new();
    let cont = Container::from_ast(&ctxt, input)?;
    ctxt.check()?;
    let allow_deprecated = allow_deprecated(input)?;

    let ident = &cont.ident;
    let body = encode_body(&cont);

    Ok(quote! {
        #[automatically_derived]
        #allow_deprecated
        impl _encode::Encode for #ident {
            fn encode<__E>(&self, __encoder: __E) -> _encode::__private::Result<__E::Ok, __E::Error>
            where
                __E: _encode::Encoder,
            {
                #body
            }
        }
    })
}
