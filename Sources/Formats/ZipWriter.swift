/// Where a `ZipWriter` puts its bytes: memory (tests, `NPZ.encode`) or an `AtomicFileWriter`.
protocol ZipSink {
    mutating func write(_ bytes: [UInt8]) throws
}

struct ZipMemorySink: ZipSink {
    var bytes: [UInt8] = []
    mutating func write(_ chunk: [UInt8]) { bytes += chunk }
}

struct ZipFileSink: ZipSink {
    let writer: AtomicFileWriter
    func write(_ chunk: [UInt8]) throws { try writer.write(chunk) }
}

/// Writes a ZIP archive member by member: local header and data, then the central directory and end records.
///
/// A size or offset above `zip64Threshold` is written as 0xFFFFFFFF with its real value in a ZIP64 extra
/// field, and the archive gets the ZIP64 end record and locator when its directory's offset or size passes the
/// threshold or it holds 65535 members or more. The default threshold is 0xFFFFFFFE, the largest value a 32-bit
/// field holds unambiguously; tests lower it to force the ZIP64 path on small data. Timestamps are fixed
/// (1980-01-01 00:00) so the same arrays always give the same bytes.
struct ZipWriter<Sink: ZipSink> {
    static var defaultZip64Threshold: UInt64 { 0xffff_fffe }

    private(set) var sink: Sink
    let zip64Threshold: UInt64
    private var offset: UInt64 = 0
    private var central: [UInt8] = []
    private var count = 0

    init(sink: Sink, zip64Threshold: UInt64 = Self.defaultZip64Threshold) {
        precondition(zip64Threshold <= Self.defaultZip64Threshold, "values above the threshold must fit 32 bits")
        self.sink = sink
        self.zip64Threshold = zip64Threshold
    }

    private static var dosDate: UInt16 { 0x0021 }  // 1980-01-01
    private static var madeBy: UInt16 { 0x0300 }  // Unix, so that external attributes hold permissions

    /// Appends one member whose (already compressed or stored) data is the concatenation of `pieces`.
    mutating func addMember(name: String, method: UInt16, crc: UInt32, uncompressedSize: Int, pieces: [[UInt8]]) throws
    {
        let nameBytes = Array(name.utf8)
        let compressedSize = UInt64(pieces.reduce(0) { $0 + $1.count })
        let size = UInt64(uncompressedSize)
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : Zip.flagUTF8
        let localZip64 = size > zip64Threshold || compressedSize > zip64Threshold
        let headerOffset = offset
        let version = localZip64 || headerOffset > zip64Threshold ? Zip.version45 : Zip.version20

        var local: [UInt8] = []
        local.appendLE(Zip.localHeaderSignature)
        local.appendLE(version)
        local.appendLE(flags)
        local.appendLE(method)
        local.appendLE(UInt16(0))  // time
        local.appendLE(Self.dosDate)
        local.appendLE(crc)
        local.appendLE(localZip64 ? 0xffff_ffff : UInt32(compressedSize))
        local.appendLE(localZip64 ? 0xffff_ffff : UInt32(size))
        local.appendLE(UInt16(nameBytes.count))
        local.appendLE(UInt16(localZip64 ? 20 : 0))
        local += nameBytes
        if localZip64 {
            local.appendLE(Zip.zip64ExtraTag)
            local.appendLE(UInt16(16))
            local.appendLE(size)
            local.appendLE(compressedSize)
        }
        try sink.write(local)
        for piece in pieces { try sink.write(piece) }
        offset += UInt64(local.count) + compressedSize

        // Central directory: only the fields that overflow go to the ZIP64 extra, in the APPNOTE order.
        var extra: [UInt8] = []
        var values: [UInt64] = []
        if size > zip64Threshold { values.append(size) }
        if compressedSize > zip64Threshold { values.append(compressedSize) }
        if headerOffset > zip64Threshold { values.append(headerOffset) }
        if !values.isEmpty {
            extra.appendLE(Zip.zip64ExtraTag)
            extra.appendLE(UInt16(8 * values.count))
            for v in values { extra.appendLE(v) }
        }
        central.appendLE(Zip.centralHeaderSignature)
        central.appendLE(Self.madeBy | version)
        central.appendLE(version)
        central.appendLE(flags)
        central.appendLE(method)
        central.appendLE(UInt16(0))
        central.appendLE(Self.dosDate)
        central.appendLE(crc)
        central.appendLE(compressedSize > zip64Threshold ? 0xffff_ffff : UInt32(compressedSize))
        central.appendLE(size > zip64Threshold ? 0xffff_ffff : UInt32(size))
        central.appendLE(UInt16(nameBytes.count))
        central.appendLE(UInt16(extra.count))
        central.appendLE(UInt16(0))  // comment length
        central.appendLE(UInt16(0))  // disk number
        central.appendLE(UInt16(0))  // internal attributes
        central.appendLE(UInt32(0o100644) << 16)  // regular file, rw-r--r--
        central.appendLE(headerOffset > zip64Threshold ? 0xffff_ffff : UInt32(headerOffset))
        central += nameBytes
        central += extra
        count += 1
    }

    /// Writes the central directory and the end records.
    mutating func finish() throws {
        let cdOffset = offset
        let cdSize = UInt64(central.count)
        try sink.write(central)
        offset += cdSize
        central = []
        let zip64 = count >= 0xffff || cdOffset > zip64Threshold || cdSize > zip64Threshold
        var end: [UInt8] = []
        if zip64 {
            let recordOffset = offset
            end.appendLE(Zip.zip64EndSignature)
            end.appendLE(UInt64(Zip.zip64EndSize - 12))  // size of the rest of the record
            end.appendLE(Self.madeBy | Zip.version45)
            end.appendLE(Zip.version45)
            end.appendLE(UInt32(0))  // this disk
            end.appendLE(UInt32(0))  // disk with the central directory
            end.appendLE(UInt64(count))
            end.appendLE(UInt64(count))
            end.appendLE(cdSize)
            end.appendLE(cdOffset)
            end.appendLE(Zip.zip64LocatorSignature)
            end.appendLE(UInt32(0))
            end.appendLE(recordOffset)
            end.appendLE(UInt32(1))  // total disks
        }
        let entries = UInt16(min(count, 0xffff))
        end.appendLE(Zip.endSignature)
        end.appendLE(UInt16(0))
        end.appendLE(UInt16(0))
        end.appendLE(entries)
        end.appendLE(entries)
        end.appendLE(cdSize > zip64Threshold ? 0xffff_ffff : UInt32(cdSize))
        end.appendLE(cdOffset > zip64Threshold ? 0xffff_ffff : UInt32(cdOffset))
        end.appendLE(UInt16(0))  // comment length
        try sink.write(end)
        offset += UInt64(end.count)
    }
}
