import CZlib

/// The bytes of one `.npy` stream, read front to back: straight from memory (a `.npy` file, a stored archive
/// member) or inflated on the fly (a deflated member), so that array data lands in the tensor's own buffer
/// without an intermediate copy of the whole member.
protocol NPYSource {
    /// Bytes not yet read: exact for memory, as declared by the archive for inflated data.
    var remaining: Int { get }
    /// Fills `buffer` completely (`buffer.count <= remaining`) or throws.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws
    /// Reads `count` bytes (`count <= remaining`) into a new array.
    mutating func readArray(count: Int) throws -> [UInt8]
}

extension NPYSource {
    /// Allocates the whole array at once and fills it: right when `remaining` is backed by bytes present.
    mutating func readArray(count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }
}

/// Bytes already in memory.
struct NPYMemorySource: NPYSource {
    let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(buffer.count <= remaining, "read past the checked size")
        if buffer.count > 0 {
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + offset, byteCount: buffer.count)
        }
        offset += buffer.count
    }
}

/// Raw-deflate data inflated as it is read, with the CRC-32 of everything produced.
///
/// The declared uncompressed size bounds every read; the stream ending early is reported as truncation, and
/// `finish()` checks that it ends exactly at the declared size.
struct NPYInflateSource: NPYSource {
    private let zlib: ZlibStream
    private let input: UnsafeRawBufferPointer
    private var inputOffset = 0
    private var ended = false
    /// Up to this many bytes the declared size is allocated at once; beyond, the buffer grows as inflated data
    /// proves the size (see `readArray`).
    let trustedSize: Int
    private(set) var remaining: Int
    private(set) var crc: UInt32 = 0
    private let file: String
    private let member: String

    init(compressed: UnsafeRawBufferPointer, uncompressedSize: Int, file: String, member: String) throws {
        guard let z = ZlibStream(.inflate) else {
            throw NPZError.badArchive(file: file, member: member, detail: "zlib could not allocate an inflate stream")
        }
        zlib = z
        input = compressed
        remaining = uncompressedSize
        let (ratioBound, overflow) = compressed.count.multipliedReportingOverflow(by: 16)
        trustedSize = max(64 << 20, overflow ? Int.max : ratioBound)
        self.file = file
        self.member = member
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(buffer.count <= remaining, "read past the checked size")
        let produced = try inflate(into: buffer)
        guard produced == buffer.count else {
            throw NPZError.sizeMismatch(
                file: file, member: member,
                detail: "the deflate data ends \(remaining - produced) bytes before the declared uncompressed size")
        }
        crc = ZipCRC32.update(crc, UnsafeRawBufferPointer(buffer))
        remaining -= buffer.count
    }

    /// Reads `count` bytes into a new array without trusting the declared size blindly.
    ///
    /// Deflate may legitimately expand up to 1032:1 (an all-zero tensor does), so a small archive can declare a
    /// member of many GB. Up to `trustedSize` (64 MiB, or 16× the compressed size: ordinary weights compress
    /// far less than that) the array is allocated at once and inflated into directly; a larger claim is
    /// inflated in 16 MiB chunks into a growing array, so data that ends early is reported as truncation
    /// before memory for the claimed size was ever requested.
    mutating func readArray(count: Int) throws -> [UInt8] {
        if count <= trustedSize {
            return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                try read(into: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(trustedSize)
        var chunk = [UInt8](repeating: 0, count: 16 << 20)
        while out.count < count {
            let n = min(chunk.count, count - out.count)
            try chunk.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n])) }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Checks that the deflate stream ends where the declared size does (nothing more comes out of it).
    mutating func finish() throws {
        precondition(remaining == 0, "finish() before reading everything")
        var probe: UInt8 = 0
        let extra = try withUnsafeMutableBytes(of: &probe) { try inflate(into: $0) }
        guard extra == 0, ended else {
            throw NPZError.sizeMismatch(
                file: file, member: member, detail: "the deflate data holds more than the declared uncompressed size")
        }
    }

    /// Inflates into `buffer` until it is full or the stream ends; returns the bytes produced.
    private mutating func inflate(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let s = zlib.stream
        var filled = 0
        while filled < buffer.count && !ended {
            if s.pointee.avail_in == 0, inputOffset < input.count {
                let n = min(input.count - inputOffset, 1 << 30)
                s.pointee.next_in = UnsafeMutablePointer(
                    mutating: (input.baseAddress! + inputOffset).assumingMemoryBound(to: Bytef.self))
                s.pointee.avail_in = uInt(n)
                inputOffset += n
            }
            let space = min(buffer.count - filled, 1 << 30)
            s.pointee.next_out = (buffer.baseAddress! + filled).assumingMemoryBound(to: Bytef.self)
            s.pointee.avail_out = uInt(space)
            let status = CZlib.inflate(s, Z_NO_FLUSH)
            filled += space - Int(s.pointee.avail_out)
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                ended = true
            case Z_BUF_ERROR where s.pointee.avail_in == 0 && inputOffset == input.count:
                throw NPZError.truncated(file: file, member: member, detail: "the deflate data stops before its end")
            case Z_BUF_ERROR where s.pointee.avail_in == 0:
                continue  // more input is fed on the next turn
            case Z_DATA_ERROR:
                throw NPZError.badArchive(
                    file: file, member: member, detail: "corrupt deflate data (\(zlib.message ?? "data error"))")
            default:
                throw NPZError.badArchive(file: file, member: member, detail: "inflate failed (zlib status \(status))")
            }
        }
        return filled
    }
}
