/// Record signatures and limits of the ZIP format (PKWARE APPNOTE 6.3), shared by the reader and the writer.
enum Zip {
    static let localHeaderSignature: UInt32 = 0x0403_4b50
    static let centralHeaderSignature: UInt32 = 0x0201_4b50
    static let endSignature: UInt32 = 0x0605_4b50
    static let zip64EndSignature: UInt32 = 0x0606_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    static let dataDescriptorSignature: UInt32 = 0x0807_4b50

    static let localHeaderSize = 30
    static let centralHeaderSize = 46
    static let endSize = 22
    static let zip64EndSize = 56
    static let zip64LocatorSize = 20
    /// The extra-field tag of the ZIP64 extended information (sizes and offset as 8-byte values).
    static let zip64ExtraTag: UInt16 = 0x0001

    static let methodStored: UInt16 = 0
    static let methodDeflate: UInt16 = 8

    /// General-purpose flag bits.
    static let flagEncrypted: UInt16 = 1 << 0
    static let flagDataDescriptor: UInt16 = 1 << 3
    static let flagStrongEncryption: UInt16 = 1 << 6
    static let flagUTF8: UInt16 = 1 << 11

    /// "Version needed to extract": 2.0 for deflate, 4.5 for ZIP64.
    static let version20: UInt16 = 20
    static let version45: UInt16 = 45

    /// Deflate cannot expand data by more than 1032:1 (a 258-byte match costs at least 2 bits), so a member
    /// claiming more is hostile or corrupt and is refused before its buffer is allocated.
    static let maxDeflateRatio = 1032
    /// Deflate ratio above which a member counts as highly compressed. Trained (or random) float weights deflate to
    /// 0.8–0.95 of their size and even a 90 %-pruned tensor stays near 10:1; only long runs of one byte value reach
    /// deflate's ~1030:1, which is what a compression bomb is made of.
    static let maxAcceptedRatio = 100
    /// Most bytes all highly compressed members of one archive may inflate to (256 MiB).
    static let maxHighRatioBytes = 256 << 20

    /// Decodes a member name: UTF-8 when flag bit 11 is set, otherwise IBM code page 437 (the ZIP default,
    /// which is also what Python's zipfile assumes), so that names read here match the keys numpy shows.
    static func decodeName(_ bytes: UnsafeRawBufferPointer, utf8: Bool) -> String {
        if utf8 || bytes.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        var s = String.UnicodeScalarView()
        for b in bytes {
            s.append(b < 0x80 ? Unicode.Scalar(b) : Unicode.Scalar(cp437High[Int(b) - 0x80])!)
        }
        return String(s)
    }

    /// Code points of CP437 bytes 0x80…0xFF.
    private static let cp437High: [UInt16] = [
        0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF,
        0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
        0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA,
        0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
        0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557,
        0x255D, 0x255C, 0x255B, 0x2510, 0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
        0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559,
        0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
        0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4,
        0x221E, 0x03C6, 0x03B5, 0x2229, 0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
        0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
    ]
}

/// One member as the central directory describes it; sizes and offsets are already widened from ZIP64 extras.
struct ZipEntry {
    var name: String
    var rawName: [UInt8]
    var flags: UInt16
    var method: UInt16
    var crc32: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int

    var isDirectory: Bool { name.hasSuffix("/") && uncompressedSize == 0 }
    var isEncrypted: Bool {
        flags & (Zip.flagEncrypted | Zip.flagStrongEncryption) != 0 || method == 99
    }
}

/// Little-endian reads from a byte buffer at offsets the caller has bounds-checked.
extension UnsafeRawBufferPointer {
    func u16(_ offset: Int) -> UInt16 { UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
}

/// Little-endian appends for building headers.
extension Array where Element == UInt8 {
    mutating func appendLE(_ v: UInt16) {
        append(UInt8(v & 0xff))
        append(UInt8(v >> 8))
    }
    mutating func appendLE(_ v: UInt32) {
        for s in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(s)) & 0xff)) }
    }
    mutating func appendLE(_ v: UInt64) {
        for s in stride(from: 0, to: 64, by: 8) { append(UInt8((v >> UInt64(s)) & 0xff)) }
    }
}
