/// A read-only HDF5 file image: the subset of the HDF5 File Format Specification (version 3.0) that h5py and Keras
/// write, read by effnet's own bounds-checked code (superblock versions 0–3, object headers v1 and v2 with
/// continuation blocks, old-style and compact groups, attributes, contiguous and compact datasets, the global heap
/// of variable-length strings).
///
/// Every address, length and count read from the file is checked against the image before it is used, every
/// structure is parsed through an `HDF5Cursor` that cannot read outside it, and the total bytes of structure parsed
/// is bounded by a multiple of the file's size, so that loops of continuation blocks, B-tree nodes or groups end
/// with an error instead of running forever. The image must stay valid while the file is used (a mapped file or an
/// array's storage for the duration of one read).
final class HDF5File {
    let bytes: UnsafeRawBufferPointer
    let name: String
    /// File offset that addresses are relative to (where the superblock was found).
    let base: Int
    let offsetSize: Int
    let lengthSize: Int
    /// The root group's object header (file offset).
    let rootAddress: Int

    /// Object headers parsed so far, by file offset.
    private var headers: [Int: HDF5ObjectHeader] = [:]
    /// Global heap collections parsed so far: object index → byte range of the object's data.
    private var collections: [Int: [Int: Range<Int>]] = [:]
    /// Group members and attributes parsed so far, by object header offset.
    var linkCache: [Int: [String: HDF5Link]] = [:]
    var attributeCache: [Int: [HDF5Attribute]] = [:]
    /// Bytes of structure parsed (and of strings decoded) so far, and the most allowed (see the type's comment).
    private var work = 0
    private let workLimit: Int

    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

    init(bytes: UnsafeRawBufferPointer, name: String) throws(WeightFileError) {
        self.bytes = bytes
        self.name = name
        workLimit = bytes.count.multipliedReportingOverflow(by: 32).partialValue &+ (16 << 20)
        // The superblock is at byte 0, 512, 1024, 2048, … (a user block may precede it).
        var at = 0
        var found: Int?
        while at <= bytes.count - 8 {
            if bytes[at..<(at + 8)].elementsEqual(Self.signature) {
                found = at
                break
            }
            at = at == 0 ? 512 : at * 2
        }
        guard let found else {
            throw .malformed(file: name, detail: "not a readable HDF5 file (no HDF5 signature at byte 0, 512, 1024, …)")
        }
        base = found
        var c = try HDF5Cursor(
            bytes, file: name, what: "the superblock at byte \(found)", offset: found,
            count: min(bytes.count - found, 96))
        try c.skip(8)
        let version = Int(try c.u8())
        var rootAddress: UInt64?
        var endOfFile: UInt64?
        switch version {
        case 0, 1:
            try c.skip(4)  // free-space, root symbol table, reserved, shared-header versions
            offsetSize = Int(try c.u8())
            lengthSize = Int(try c.u8())
            try Self.checkWidths(offsetSize, lengthSize, c)
            try c.skip(1 + 2 + 2 + 4)  // reserved, group leaf/internal node K, consistency flags
            if version == 1 { try c.skip(4) }  // indexed storage K, reserved
            c = try Self.reopen(c, offsetSize, lengthSize)
            _ = try c.address()  // base address: the superblock's own place (as libhdf5 takes it)
            _ = try c.address()  // free-space info
            endOfFile = try c.address()
            _ = try c.address()  // driver info block
            // Root group symbol table entry: link name offset, object header address, cache type, …
            _ = try c.address()
            rootAddress = try c.address()
        case 2, 3:
            offsetSize = Int(try c.u8())
            lengthSize = Int(try c.u8())
            try Self.checkWidths(offsetSize, lengthSize, c)
            try c.skip(1)  // consistency flags
            c = try Self.reopen(c, offsetSize, lengthSize)
            _ = try c.address()  // base address
            _ = try c.address()  // superblock extension (file-space and shared-message settings: not needed)
            endOfFile = try c.address()
            rootAddress = try c.address()
        default:
            throw .unsupported(file: name, detail: "HDF5 superblock version \(version) is not supported (0 to 3 are)")
        }
        // The end-of-file address counts from the file's start, user block included (as libhdf5 compares it).
        if let endOfFile, endOfFile > UInt64(bytes.count) {
            throw .truncated(file: name, detail: "the HDF5 file declares \(endOfFile) bytes but has \(bytes.count)")
        }
        guard let rootAddress else { throw .malformed(file: name, detail: "the superblock has no root group") }
        self.rootAddress = try Self.absolute(
            rootAddress, base: found, size: bytes.count, file: name, what: "the root group's object header")
    }

    private static func checkWidths(_ offsets: Int, _ lengths: Int, _ c: HDF5Cursor) throws(WeightFileError) {
        guard [2, 4, 8].contains(offsets), [2, 4, 8].contains(lengths) else {
            throw c.malformed("sizes of offsets \(offsets) and lengths \(lengths) (2, 4 or 8 are supported)")
        }
    }

    /// The same cursor with the file's address and length widths.
    private static func reopen(_ c: HDF5Cursor, _ offsets: Int, _ lengths: Int) throws(WeightFileError) -> HDF5Cursor {
        var d = try HDF5Cursor(
            c.bytes, file: c.file, what: c.what, offset: c.start, count: c.end - c.start, offsetSize: offsets,
            lengthSize: lengths)
        d.position = c.position
        return d
    }

    func malformed(_ detail: String) -> WeightFileError { .malformed(file: name, detail: detail) }

    /// The file offset of `address`, which must point inside the file.
    func absolute(_ address: UInt64, _ what: String) throws(WeightFileError) -> Int {
        try Self.absolute(address, base: base, size: bytes.count, file: name, what: what)
    }

    private static func absolute(_ address: UInt64, base: Int, size: Int, file: String, what: String)
        throws(WeightFileError) -> Int
    {
        guard address < UInt64(size), Int(address) < size - base else {
            throw .truncated(file: file, detail: "\(what) at address \(address) is past the end of the file (\(size) bytes)")
        }
        return base + Int(address)
    }

    /// A cursor over `count` bytes at file offset `offset`, counted against the parsing budget.
    func cursor(_ what: String, at offset: Int, count: Int) throws(WeightFileError) -> HDF5Cursor {
        let c = try HDF5Cursor(
            bytes, file: name, what: what, offset: offset, count: count, offsetSize: offsetSize, lengthSize: lengthSize)
        try spend(count, what)
        return c
    }

    /// Counts `count` bytes read against the budget: a file cannot make effnet parse or decode more than a multiple
    /// of its own size (many names pointing at one large global heap object, one block reached from many headers).
    func spend(_ count: Int, _ what: String) throws(WeightFileError) {
        let (total, overflow) = work.addingReportingOverflow(count)
        guard !overflow, total <= workLimit else {
            throw malformed(
                "\(what): more than \(workLimit) bytes of HDF5 structure read for a \(bytes.count)-byte file (a loop, or one structure reached too often)")
        }
        work = total
    }

    /// A cursor over the rest of the file from `offset` (a structure whose length is read from itself).
    func cursor(_ what: String, at offset: Int, upTo limit: Int) throws(WeightFileError) -> HDF5Cursor {
        guard offset >= 0, offset <= bytes.count else {
            throw .truncated(file: name, detail: "\(what) is past the end of the file (\(bytes.count) bytes)")
        }
        return try cursor(what, at: offset, count: min(limit, bytes.count - offset))
    }

    // MARK: - Object headers

    func header(at address: Int) throws(WeightFileError) -> HDF5ObjectHeader {
        if let h = headers[address] { return h }
        let h = try HDF5ObjectHeader(file: self, address: address)
        headers[address] = h
        return h
    }

    // MARK: - Global heap

    /// The bytes of object `index` in the global heap collection at `address` (a variable-length string's data).
    func globalHeapObject(collection address: UInt64, index: Int, what: String) throws(WeightFileError)
        -> UnsafeRawBufferPointer
    {
        let at = try absolute(address, "\(what): the global heap collection")
        if collections[at] == nil { collections[at] = try parseCollection(at) }
        guard let range = collections[at]?[index] else {
            throw malformed("\(what): the global heap collection at byte \(at) has no object \(index)")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    /// Object index → data range of the collection at `at` (signature "GCOL", version 1, its size, then objects of
    /// index, reference count, reserved, size and data padded to 8 bytes; index 0 is the free space at the end).
    private func parseCollection(_ at: Int) throws(WeightFileError) -> [Int: Range<Int>] {
        var head = try cursor("the global heap collection at byte \(at)", at: at, count: 8 + lengthSize)
        try head.expect(signature: "GCOL")
        let version = try head.u8()
        guard version == 1 else { throw head.malformed("version \(version) (1 is supported)") }
        try head.skip(3)
        let size = try head.length("collection size")
        guard size >= 8 + lengthSize else { throw head.malformed("collection size \(size) is smaller than its header") }
        var c = try cursor("the global heap collection at byte \(at)", at: at, count: size)
        try c.skip(8 + lengthSize)
        var objects: [Int: Range<Int>] = [:]
        while c.remaining >= 8 + lengthSize {
            let index = try c.u16()
            if index == 0 { break }
            try c.skip(6)  // reference count, reserved
            let objectSize = try c.length("object \(index)'s size")
            try c.need(objectSize)
            objects[index] = c.position..<(c.position + objectSize)
            // Data is padded to a multiple of 8 bytes (the last object's padding may be cut by the collection's end).
            let padded = objectSize.addingReportingOverflow(7).partialValue / 8 * 8
            try c.skip(min(padded, c.remaining))
        }
        return objects
    }
}
