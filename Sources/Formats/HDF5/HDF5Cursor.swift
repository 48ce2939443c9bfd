/// A bounds-checked little-endian reader over one structure of an HDF5 file (a superblock, an object header chunk,
/// a heap, a message body): every read stays inside `start..<end`, which was itself checked against the file, and
/// a read past `end` throws instead of trapping. `what` names the structure in the error.
struct HDF5Cursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    let what: String
    let start: Int
    let end: Int
    var position: Int
    let offsetSize: Int
    let lengthSize: Int

    /// A cursor over `count` bytes at `offset`, which must lie inside the file; `what` names the structure and its
    /// place ("the object header at byte 800").
    init(
        _ bytes: UnsafeRawBufferPointer, file: String, what: String, offset: Int, count: Int, offsetSize: Int = 8,
        lengthSize: Int = 8
    ) throws(WeightFileError) {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw .truncated(
                file: file,
                detail: "\(what) (\(count) bytes) runs past the end of the file (\(bytes.count) bytes)")
        }
        self.bytes = bytes
        self.file = file
        self.what = what
        start = offset
        end = offset + count
        position = offset
        self.offsetSize = offsetSize
        self.lengthSize = lengthSize
    }

    var remaining: Int { end - position }

    func malformed(_ detail: String) -> WeightFileError { .malformed(file: file, detail: "\(what): \(detail)") }

    /// Throws unless `count` more bytes are inside the structure.
    func need(_ count: Int) throws(WeightFileError) {
        guard count >= 0, count <= end - position else {
            if end == bytes.count, count >= 0 {
                throw .truncated(file: file, detail: "\(what) is cut off by the end of the file at byte \(end)")
            }
            throw malformed("a field at byte \(position) needs \(count) bytes, past the structure's end at byte \(end)")
        }
    }

    mutating func skip(_ count: Int) throws(WeightFileError) {
        try need(count)
        position += count
    }

    /// Moves to `offset` bytes from the structure's start (alignment, a field at a fixed place).
    mutating func seek(toRelative offset: Int) throws(WeightFileError) {
        guard offset >= 0, offset <= end - start else { throw malformed("offset \(offset) is past its end") }
        position = start + offset
    }

    mutating func u8() throws(WeightFileError) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned little-endian integer of `size` bytes (1…8).
    mutating func unsigned(_ size: Int) throws(WeightFileError) -> UInt64 {
        try need(size)
        var value: UInt64 = 0
        for i in 0..<min(size, 8) { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += size
        return value
    }

    mutating func u16() throws(WeightFileError) -> Int { Int(try unsigned(2)) }
    mutating func u32() throws(WeightFileError) -> Int { Int(try unsigned(4)) }

    /// A count or size that must fit in an `Int` (a 64-bit field of 2^63 or more is refused).
    mutating func size(_ width: Int, _ field: String) throws(WeightFileError) -> Int {
        let v = try unsigned(width)
        guard v <= UInt64(Int.max) else { throw malformed("\(field) of \(v) is out of range") }
        return Int(v)
    }

    /// A length field (the superblock's "size of lengths").
    mutating func length(_ field: String) throws(WeightFileError) -> Int { try size(lengthSize, field) }

    /// An address field (the superblock's "size of offsets"): nil for the undefined address (all bits set).
    mutating func address() throws(WeightFileError) -> UInt64? {
        let v = try unsigned(offsetSize)
        let undefined: UInt64 = offsetSize >= 8 ? .max : (1 << (8 * UInt64(offsetSize))) - 1
        return v == undefined ? nil : v
    }

    mutating func bytes(_ count: Int) throws(WeightFileError) -> UnsafeRawBufferPointer {
        try need(count)
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    /// Checks a 4-byte signature ("OHDR", "TREE", …).
    mutating func expect(signature: String) throws(WeightFileError) {
        let s = Array(signature.utf8)
        let found = try bytes(s.count)
        guard found.elementsEqual(s) else {
            throw malformed("expected the signature '\(signature)', found \(Array(found).map { String($0) })")
        }
    }
}
