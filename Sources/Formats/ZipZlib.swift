import CZlib

/// CRC-32 (the ZIP polynomial, 0xEDB88320 reflected) through zlib, fed in pieces below zlib's 32-bit length.
enum ZipCRC32 {
    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = uLong(crc)
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 << 30)
            crc = crc32(crc, bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(n))
            offset += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }
}

/// A zlib stream in raw-deflate mode (window bits −15: no zlib header, as ZIP stores deflate data), owning its
/// `z_stream`. The stream lives at a fixed heap address because zlib keeps a pointer back to it.
final class ZlibStream {
    enum Mode { case inflate, deflate }

    let mode: Mode
    let stream: UnsafeMutablePointer<z_stream>

    /// Returns nil only when zlib cannot allocate its state.
    init?(_ mode: Mode) {
        self.mode = mode
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let size = Int32(MemoryLayout<z_stream>.size)
        let status =
            switch mode {
            case .inflate: inflateInit2_(stream, -15, zlibVersion(), size)
            case .deflate:
                deflateInit2_(
                    stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), size)
            }
        guard status == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        switch mode {
        case .inflate: inflateEnd(stream)
        case .deflate: deflateEnd(stream)
        }
        stream.deallocate()
    }

    /// zlib's message for the last error, if it set one.
    var message: String? { stream.pointee.msg.map { String(cString: $0) } }
}

/// Raw-deflates byte pieces into one buffer (zlib's default level, as Python's zipfile and numpy use).
enum ZipDeflate {
    static func compress(_ pieces: [[UInt8]]) -> [UInt8] {
        // One (possibly empty) piece at least, so that the loop below always finishes the stream.
        let pieces = pieces.isEmpty ? [[]] : pieces
        // zlib fails only when out of memory, which traps like any other allocation.
        guard let z = ZlibStream(.deflate) else { fatalError("zlib could not allocate a deflate stream") }
        var out: [UInt8] = []
        out.reserveCapacity(pieces.reduce(0) { $0 + $1.count } / 2 + 64)
        var scratch = [UInt8](repeating: 0, count: 1 << 20)
        for (index, piece) in pieces.enumerated() {
            let last = index == pieces.count - 1
            piece.withUnsafeBytes { input in
                var offset = 0
                repeat {
                    let n = min(input.count - offset, 1 << 30)
                    z.stream.pointee.next_in = UnsafeMutablePointer(
                        mutating: input.baseAddress?.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
                    z.stream.pointee.avail_in = uInt(n)
                    offset += n
                    let flush = last && offset == input.count ? Z_FINISH : Z_NO_FLUSH
                    // Drain output until zlib has taken all input (and, when finishing, written the end).
                    while true {
                        let status = scratch.withUnsafeMutableBytes { buffer -> Int32 in
                            z.stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                            z.stream.pointee.avail_out = uInt(buffer.count)
                            return deflate(z.stream, flush)
                        }
                        let produced = scratch.count - Int(z.stream.pointee.avail_out)
                        out.append(contentsOf: scratch[0..<produced])
                        precondition(
                            status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR,
                            "deflate failed: \(status)")
                        if flush == Z_FINISH ? status == Z_STREAM_END : z.stream.pointee.avail_out != 0 { break }
                    }
                } while offset < input.count
            }
        }
        return out
    }
}
