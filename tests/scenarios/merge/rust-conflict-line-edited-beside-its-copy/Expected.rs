use crate::de::{Error, IntoDecoder};

pub trait FieldDecoder<'de, E> {
    type Decoder: Decoder<'de, Error = E>;
    type BorrowedDecoder: Decoder<'de, Error = E>;

    fn from(self) -> Self::Decoder;
    fn borrowed(self) -> Self::BorrowedDecoder;
}

impl<'de, E> FieldDecoder<'de, E> for u64
where
    E: Error,
{
<<<<<<< left
    type Decoder = <u32 as IntoDecoder<'de, E>>::Decoder;
    type BorrowedDecoder = <u32 as IntoDecoder<'de, E>>::Decoder;
||||||| base
    type Decoder = <u32 as IntoDecoder<'de, E>>::Decoder;
=======
    type Decoder = <u64 as IntoDecoder<'de, E>>::Decoder;
>>>>>>> right

    fn from(self) -> Self::Decoder {
        self.into_decoder()
    }

    fn borrowed(self) -> Self::BorrowedDecoder {
        self.into_decoder()
    }
}
