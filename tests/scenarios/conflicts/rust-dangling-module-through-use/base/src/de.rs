mod enum_;
mod enum_adjacently;
mod enum_internally;

pub use self::enum_internally::deserialize as deserialize_internally;
