use syn::{Attribute, DeriveInput, Ident};

pub fn derive_command(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;

    match input.data {
        Data::Struct(_) => gen_for_struct(ident, &input.attrs),
        Data::Enum(_) => gen_for_enum(ident, &input.attrs),
        _ => abort_call_site!("`#[derive(Command)]` only supports structs and enums"),
    }
}

pub fn gen_for_struct(struct_name: &Ident, attrs: &[Attribute]) -> TokenStream {
    let name = env::var("CARGO_PKG_NAME").ok().unwrap_or_default();
    let attrs = Attrs::from_struct(struct_name, attrs, Name::Assigned(quote!(#name)));
    quote! {
        impl ::tabs::CommandFactory for #struct_name {
            fn command() -> ::tabs::Command { #attrs }
        }
    }
}
