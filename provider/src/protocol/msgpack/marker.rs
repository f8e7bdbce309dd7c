//! Classifying msgpack markers for the decoder.

use rmp::Marker;

/// How an extension value's payload length is given.
pub(super) enum ExtLen {
    Fixed(usize),
    /// Read from the next 1, 2 or 4 bytes.
    Prefixed(u8),
}

pub(super) fn ext_payload_len(marker: Marker) -> Option<ExtLen> {
    match marker {
        Marker::FixExt1 => Some(ExtLen::Fixed(1)),
        Marker::FixExt2 => Some(ExtLen::Fixed(2)),
        Marker::FixExt4 => Some(ExtLen::Fixed(4)),
        Marker::FixExt8 => Some(ExtLen::Fixed(8)),
        Marker::FixExt16 => Some(ExtLen::Fixed(16)),
        Marker::Ext8 => Some(ExtLen::Prefixed(1)),
        Marker::Ext16 => Some(ExtLen::Prefixed(2)),
        Marker::Ext32 => Some(ExtLen::Prefixed(4)),
        _ => None,
    }
}

pub(super) fn is_text(marker: Marker) -> bool {
    matches!(
        marker,
        Marker::FixStr(_)
            | Marker::Str8
            | Marker::Str16
            | Marker::Str32
            | Marker::Bin8
            | Marker::Bin16
            | Marker::Bin32
    )
}

pub(super) fn describe(marker: Marker) -> &'static str {
    match marker {
        Marker::Null => "nil",
        Marker::True | Marker::False => "bool",
        Marker::FixPos(_) | Marker::FixNeg(_) => "integer",
        Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => "integer",
        Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => "integer",
        Marker::F32 | Marker::F64 => "float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "map",
        Marker::Reserved => "reserved byte 0xc1",
        _ => "extension",
    }
}
