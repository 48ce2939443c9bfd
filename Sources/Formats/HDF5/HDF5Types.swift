/// A dataspace message: the dimensions of a dataset or attribute (scalar: no dimensions, one element; null: none).
struct HDF5Dataspace {
    let dims: [Int]
    let count: Int
    let isNull: Bool

    static let maxRank = 32

    init(_ c: inout HDF5Cursor) throws(WeightFileError) {
        let version = try c.u8()
        let rank = Int(try c.u8())
        let flags = try c.u8()
        var isNull = false
        switch version {
        case 1: try c.skip(5)
        case 2: isNull = try c.u8() == 2
        default: throw c.malformed("dataspace version \(version) (1 and 2 are supported)")
        }
        guard rank <= Self.maxRank else { throw c.malformed("a dataspace of rank \(rank) (at most \(Self.maxRank))") }
        var dims: [Int] = []
        var count = 1
        for _ in 0..<rank {
            let d = try c.length("dimension size")
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw c.malformed("dimensions whose product overflows 64 bits") }
            count = p
            dims.append(d)
        }
        self.dims = isNull ? [] : dims
        self.count = isNull ? 0 : count
        self.isNull = isNull
    }
}

/// A datatype message, as far as effnet reads it: floats and integers (converted to float32), fixed- and
/// variable-length strings; other classes are kept only by class number, for the error.
enum HDF5Datatype: Equatable {
    case float(size: Int, bigEndian: Bool)
    case integer(size: Int, signed: Bool, bigEndian: Bool)
    case fixedString(size: Int)
    case variableString
    case other(typeClass: Int, size: Int)

    /// Bytes one element takes in an attribute's or dataset's data.
    func elementSize(offsetSize: Int) -> Int {
        switch self {
        case .float(let size, _), .integer(let size, _, _), .fixedString(let size), .other(_, let size): size
        case .variableString: 4 + offsetSize + 4  // length, global heap collection address, object index
        }
    }

    var isString: Bool {
        switch self {
        case .fixedString, .variableString: true
        default: false
        }
    }

    init(_ c: inout HDF5Cursor, depth: Int = 0) throws(WeightFileError) {
        let head = try c.u8()
        let typeClass = Int(head & 0x0F)
        let bits0 = try c.u8()
        try c.skip(2)
        let size = try c.u32()
        switch typeClass {
        case 0:
            // Fixed-point: byte order (bit 0), signed (bit 3); bit offset and precision.
            try c.skip(4)
            guard [1, 2, 4, 8].contains(size) else { throw c.malformed("a \(size)-byte integer type") }
            self = .integer(size: size, signed: bits0 & 0x08 != 0, bigEndian: bits0 & 0x01 != 0)
        case 1:
            // IEEE floating point: byte order (bit 0; bit 6 set with it is VAX order), then bit offset, precision,
            // exponent location and size, mantissa location and size, exponent bias.
            let offset = try c.u16()
            let precision = try c.u16()
            let exponentAt = Int(try c.u8())
            let exponentBits = Int(try c.u8())
            let mantissaAt = Int(try c.u8())
            let mantissaBits = Int(try c.u8())
            let bias = try c.u32()
            let ieee: [Int: (Int, Int, Int)] = [2: (10, 5, 15), 4: (23, 8, 127), 8: (52, 11, 1023)]
            guard bits0 & 0x40 == 0, let (m, e, b) = ieee[size], offset == 0, precision == size * 8,
                mantissaAt == 0, mantissaBits == m, exponentAt == m, exponentBits == e, bias == b
            else {
                throw c.malformed("a \(size)-byte floating-point type that is not IEEE 754 half, single or double")
            }
            self = .float(size: size, bigEndian: bits0 & 0x01 != 0)
        case 3:
            guard size > 0 else { throw c.malformed("a string type of 0 bytes") }
            self = .fixedString(size: size)
        case 9:
            // Variable-length: bits 0-3 are 0 for a sequence, 1 for a string; the base type follows.
            guard depth < 4 else { throw c.malformed("variable-length types nested too deeply") }
            _ = try HDF5Datatype(&c, depth: depth + 1)
            self = bits0 & 0x0F == 1 ? .variableString : .other(typeClass: 9, size: size)
        default:
            self = .other(typeClass: typeClass, size: size)
        }
    }

    var description: String {
        switch self {
        case .float(let size, _): "float\(size * 8)"
        case .integer(let size, let signed, _): "\(signed ? "" : "u")int\(size * 8)"
        case .fixedString(let size): "\(size)-byte string"
        case .variableString: "variable-length string"
        case .other(let typeClass, _):
            ["integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum",
             "variable-length sequence", "array"].indices.contains(typeClass)
                ? ["integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum",
                   "variable-length sequence", "array"][typeClass] : "class \(typeClass)"
        }
    }
}

/// Where a dataset's elements are (data layout message versions 1–4).
enum HDF5Layout {
    /// File offset and byte count (nil offset: never written).
    case contiguous(offset: Int?, count: Int)
    /// In the message itself.
    case compact(offset: Int, count: Int)
    case chunked
    case virtual

    init(_ c: inout HDF5Cursor, file: HDF5File) throws(WeightFileError) {
        let version = try c.u8()
        switch version {
        case 1, 2:
            let rank = Int(try c.u8())
            let layoutClass = try c.u8()
            try c.skip(5)
            let address = layoutClass == 0 ? nil : try c.address()
            // Dimension sizes of 4 bytes: the dataset's, then the element size as the last one.
            var count = 1
            for _ in 0..<rank {
                let (p, overflow) = count.multipliedReportingOverflow(by: try c.u32())
                guard !overflow else { throw c.malformed("a layout whose size overflows 64 bits") }
                count = p
            }
            switch layoutClass {
            case 0:
                let size = try c.u32()
                try c.need(size)
                self = .compact(offset: c.position, count: size)
            case 1: self = .contiguous(offset: try address.map { a throws(WeightFileError) in try file.absolute(a, c.what) }, count: count)
            default: self = .chunked
            }
        case 3, 4:
            let layoutClass = try c.u8()
            switch layoutClass {
            case 0:
                let size = try c.u16()
                try c.need(size)
                self = .compact(offset: c.position, count: size)
            case 1:
                let address = try c.address()
                let size = try c.length("contiguous data size")
                self = .contiguous(offset: try address.map { a throws(WeightFileError) in try file.absolute(a, c.what) }, count: size)
            case 2: self = .chunked
            case 3: self = .virtual
            default: throw c.malformed("data layout class \(layoutClass)")
            }
        default:
            throw c.malformed("data layout version \(version) (1 to 4 are supported)")
        }
    }
}
