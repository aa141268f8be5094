use crate::{bound, fragment, private};
use proc_macro2::TokenStream;
use quote::quote;

pub fn expand_pack(input: &Input) -> TokenStream {
    let ident = &input.ident;
    let krate = &input.krate;
    let body = pack_body(input);

    quote! {
        impl #krate::Pack for #ident {
            fn pack<__W>(&self, __writer: __W) -> #krate::#private::Result<(), __W::Error>
            where
                __W: #krate::Writer,
            {
                #body
            }
        }
    }
}
