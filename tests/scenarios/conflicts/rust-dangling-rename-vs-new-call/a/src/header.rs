//! Parsing of the archive header.

use std::io::{self, Read};

pub struct Header {
    pub version: u8,
    pub entries: u32,
}

fn decode_header(bytes: &[u8; 8]) -> Option<Header> {
    if &bytes[..3] != b"ARC" {
        return None;
    }
    let entries = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    Some(Header { version: bytes[3], entries })
}

pub fn read_header<R: Read>(reader: &mut R) -> io::Result<Option<Header>> {
    let mut bytes = [0u8; 8];
    reader.read_exact(&mut bytes)?;
    Ok(decode_header(&bytes))
}
