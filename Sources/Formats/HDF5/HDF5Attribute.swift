#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An attribute message (versions 1–3): name, datatype, dataspace and where its data is.
struct HDF5Attribute {
    let name: String
    let type: HDF5Datatype
    let space: HDF5Dataspace
    /// The data's bytes (checked to hold `space.count` elements of `type`).
    let data: UnsafeRawBufferPointer

    /// Version 1 pads the name, datatype and dataspace to 8 bytes; version 3 adds the name's encoding.
    init(_ c: inout HDF5Cursor, offsetSize: Int) throws(WeightFileError) {
        let version = try c.u8()
        guard (1...3).contains(version) else { throw c.malformed("attribute message version \(version)") }
        let flags = try c.u8()
        guard flags & 0x03 == 0 else { throw c.malformed("an attribute with a shared datatype or dataspace") }
        let nameSize = try c.u16()
        let typeSize = try c.u16()
        let spaceSize = try c.u16()
        if version == 3 { try c.skip(1) }
        let pad = { (n: Int) in version == 1 ? (n + 7) / 8 * 8 : n }
        let nameBytes = try c.bytes(nameSize)
        try c.skip(pad(nameSize) - nameSize)
        name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
        try c.need(typeSize)
        var t = try HDF5Cursor(
            c.bytes, file: c.file, what: "\(c.what): attribute '\(name)'", offset: c.position, count: typeSize,
            offsetSize: c.offsetSize, lengthSize: c.lengthSize)
        try c.skip(pad(typeSize))
        type = try HDF5Datatype(&t)
        try c.need(spaceSize)
        var s = try HDF5Cursor(
            c.bytes, file: c.file, what: "\(c.what): attribute '\(name)'", offset: c.position, count: spaceSize,
            offsetSize: c.offsetSize, lengthSize: c.lengthSize)
        try c.skip(pad(spaceSize))
        space = try HDF5Dataspace(&s)
        let (size, overflow) = space.count.multipliedReportingOverflow(by: type.elementSize(offsetSize: offsetSize))
        guard !overflow, size <= c.remaining else {
            throw c.malformed(
                "attribute '\(name)' declares \(space.count) elements of \(type.description) but stores \(c.remaining) bytes")
        }
        data = try c.bytes(size)
    }
}

extension HDF5File {
    /// UTF-8 text up to the first NUL (memchr: names can be long, and debug builds iterate bytes slowly).
    static func text(_ raw: UnsafeRawBufferPointer) -> String {
        guard let base = raw.baseAddress, !raw.isEmpty else { return "" }
        let end = memchr(base, 0, raw.count).map { $0 - UnsafeMutableRawPointer(mutating: base) } ?? raw.count
        return String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<end]), as: UTF8.self)
    }

    /// The attributes stored in the object header (compact storage). Attributes in a fractal heap (dense
    /// storage, past 8 attributes or 64 KB with `libver='latest'`) are refused when the header has them.
    func attributes(of header: HDF5ObjectHeader, path: String) throws(WeightFileError) -> [HDF5Attribute] {
        if let cached = attributeCache[header.address] { return cached }
        let out = try readAttributes(of: header, path: path)
        attributeCache[header.address] = out
        return out
    }

    private func readAttributes(of header: HDF5ObjectHeader, path: String) throws(WeightFileError) -> [HDF5Attribute] {
        var out: [HDF5Attribute] = []
        for m in header.messages(HDF5Message.attribute) {
            var c = try cursor("'\(path)': an attribute message", at: m.offset, count: m.count)
            out.append(try HDF5Attribute(&c, offsetSize: offsetSize))
        }
        if let m = header.first(HDF5Message.attributeInfo) {
            var c = try cursor("'\(path)': the attribute info message", at: m.offset, count: m.count)
            try c.skip(1)
            let flags = try c.u8()
            if flags & 0x01 != 0 { try c.skip(2) }
            if try c.address() != nil {
                throw .unsupported(
                    file: name,
                    detail: "'\(path)': attributes stored in a fractal heap (dense attribute storage) are not supported")
            }
        }
        return out
    }

    /// The elements of a string attribute: fixed-length (null-padded, cut at the first NUL) or variable-length
    /// (each a global heap object, checked to hold the length it claims).
    func strings(_ a: HDF5Attribute, path: String) throws(WeightFileError) -> [String] {
        let what = "'\(path)': attribute '\(a.name)'"
        switch a.type {
        case .fixedString(let size):
            return (0..<a.space.count).map { i in
                Self.text(UnsafeRawBufferPointer(rebasing: a.data[(i * size)..<((i + 1) * size)]))
            }
        case .variableString:
            var c = try HDF5Cursor(
                a.data, file: name, what: what, offset: 0, count: a.data.count, offsetSize: offsetSize,
                lengthSize: lengthSize)
            var out: [String] = []
            for i in 0..<a.space.count {
                let length = try c.u32()
                let collection = try c.address()
                let index = try c.u32()
                guard let collection else {
                    guard length == 0 else { throw malformed("\(what): element \(i) has no global heap object") }
                    out.append("")
                    continue
                }
                let object = try globalHeapObject(collection: collection, index: index, what: "\(what), element \(i)")
                guard length <= object.count else {
                    throw malformed(
                        "\(what), element \(i): a string of \(length) bytes in a global heap object of \(object.count)")
                }
                try spend(length, "\(what), element \(i)")
                out.append(Self.text(UnsafeRawBufferPointer(rebasing: object[0..<length])))
            }
            return out
        default:
            throw malformed("\(what) is not text")
        }
    }
}
