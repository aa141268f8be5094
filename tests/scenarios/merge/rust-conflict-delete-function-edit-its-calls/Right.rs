use syn::{Attribute, DeriveInput, Generics, Ident};

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
