use crate::de::{Error, IntoDecoder};

pub trait FieldDecoder<'de, E> {
    type Decoder: Decoder<'de, Error = E>;
    type BorrowedDecoder: Decoder<'de, Error = E>;

    fn from(self) -> Self::Decoder;
    fn borrowed(self) -> Self::BorrowedDecoder;
}

impl<'de, E> FieldDecoder<'de, E> for u32
where
    E: Error,
{
    type Decoder = <u32 as IntoDecoder<'de, E>>::Decoder;
    type BorrowedDecoder = <u32 as IntoDecoder<'de, E>>::Decoder;

    fn from(self) -> Self::Decoder {
        self.into_decoder()
    }

    fn borrowed(self) -> Self::BorrowedDecoder {
        self.into_decoder()
    }
}
