use crate::{bound, fragment};
use proc_macro2::TokenStream;
use quote::quote;

pub fn expand_pack(input: &Input) -> TokenStream {
    let ident = &input.ident;
    let krate = &input.krate;
    let body = pack_body(input);

    quote! {
        impl _pack::Pack for #ident {
            fn pack<__W>(&self, __writer: __W) -> _pack::__private::Result<(), __W::Error>
            where
                __W: _pack::Writer,
            {
                #body
            }
        }
    }
}
