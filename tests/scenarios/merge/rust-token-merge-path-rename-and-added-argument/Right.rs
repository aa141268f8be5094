fn decode_internally_tagged(variants: &[Variant], cattrs: &attr::Container, tag: &str) -> Fragment {
    let variant_arms = variants.iter().map(|variant| decode_variant_arm(variant, cattrs));
    let expecting = format!("internally tagged enum {}", cattrs.name());
    let expecting = cattrs.expecting().unwrap_or(&expecting);

    quote_block! {
        let __tagged = try!(_codec::Decoder::decode_any(
            __decoder,
            _codec::private::de::TaggedVisitor::<__Field>::new(#tag, #expecting)));

        match __tagged.tag {
            #(#variant_arms)*
        }
    }
}

fn decode_unit() -> Fragment {
    quote_block! {
        _codec::export::Ok(())
    }
}
