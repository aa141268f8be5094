use syn::{Attribute, DeriveInput, Generics, Ident};

<<<<<<< left
pub fn derive_command(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;

    match input.data {
        Data::Struct(_) => gen_for_struct(ident, &input.generics, &input.attrs),
        Data::Enum(_) => gen_for_enum(ident, &input.generics, &input.attrs),
        _ => abort_call_site!("`#[derive(Command)]` only supports structs and enums"),
    }
}
||||||| base
pub fn derive_command(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;

    match input.data {
        Data::Struct(_) => gen_for_struct(ident, &input.attrs),
        Data::Enum(_) => gen_for_enum(ident, &input.attrs),
        _ => abort_call_site!("`#[derive(Command)]` only supports structs and enums"),
    }
}
=======
>>>>>>> right

pub fn gen_for_struct(
    struct_name: &Ident,
    generics: &Generics,
    attrs: &[Attribute],
) -> TokenStream {
    let name = env::var("CARGO_PKG_NAME").ok().unwrap_or_default();
    let attrs = Attrs::from_struct(struct_name, attrs, Name::Assigned(quote!(#name)));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        impl #impl_generics ::tabs::CommandFactory for #struct_name #ty_generics #where_clause {
            fn command() -> ::tabs::Command { #attrs }
        }
    }
}
