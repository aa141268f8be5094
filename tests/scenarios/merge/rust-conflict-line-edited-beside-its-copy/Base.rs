use crate::de::{Error, IntoDecoder};

pub trait FieldDecoder<'de, E> {
    type Decoder: Decoder<'de, Error = E>;

    fn from(self) -> Self::Decoder;
}

impl<'de, E> FieldDecoder<'de, E> for u32
where
    E: Error,
{
    type Decoder = <u32 as IntoDecoder<'de, E>>::Decoder;

    fn from(self) -> Self::Decoder {
        self.into_decoder()
    }
}
