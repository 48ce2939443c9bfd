import IR

/// A tensor with the name it has in a checkpoint (`blocks.0.0.conv_pw.weight`, `block2a_expand_conv/kernel`).
public struct NamedTensor: Sendable, Equatable, Hashable {
    public var name: String
    public var tensor: Tensor

    public init(name: String, tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}

/// NumPy `.npz` archives: ZIP files of `.npy` members, as `np.savez` and `np.savez_compressed` write them.
///
/// Reading keeps the archive's member order and strips the `.npy` suffix from member names (as `np.load`'s
/// keys do). The ZIP layer is read here too: stored and deflate members, CRC-32 checked, ZIP64 records and
/// extras (numpy writes every member with a ZIP64 local extra), data descriptors, and every size checked against
/// the archive before anything is allocated.
public enum NPZ {
    /// Reads every array of the archive at `path`, which is memory-mapped and read once. Each member's pages leave
    /// the process's resident set once its array is decoded, so the archive and its arrays are not resident
    /// together (for an 85 MB checkpoint that was 85 MB more at the peak).
    public static func read(contentsOf path: String) throws -> [NamedTensor] {
        let file: InputFile
        do {
            file = try InputFile(path: path)
        } catch {
            throw NPZError.cannotOpen(file: path, reason: error.reason)
        }
        return try file.withMappedBytes { try read(archive: $0, file: path, decoded: file.dropMappedPages) }
    }

    /// Reads every array of an archive held in memory.
    public static func read(bytes: [UInt8]) throws -> [NamedTensor] {
        try bytes.withUnsafeBytes { try read(archive: $0, file: "") }
    }

    /// Writes `arrays` as an `.npz` archive loadable by `np.load`: stored members like `np.savez`, or deflated
    /// like `np.savez_compressed`. The file appears complete or not at all (`AtomicFileWriter`). Throws
    /// `NPZError` for names that cannot be stored and `FileWriteError` when the file cannot be written.
    public static func write(_ arrays: [NamedTensor], to path: String, compressed: Bool) throws {
        try write(
            arrays, to: path, compressed: compressed, zip64Threshold: ZipWriter<ZipFileSink>.defaultZip64Threshold)
    }

    /// The bytes `write` would store.
    public static func encode(_ arrays: [NamedTensor], compressed: Bool) throws -> [UInt8] {
        try encode(arrays, compressed: compressed, zip64Threshold: ZipWriter<ZipMemorySink>.defaultZip64Threshold)
    }

    // MARK: - Writing

    static func write(_ arrays: [NamedTensor], to path: String, compressed: Bool, zip64Threshold: UInt64) throws {
        try checkNames(arrays, file: path)
        let output = try AtomicFileWriter(path: path)
        var zip = ZipWriter(sink: ZipFileSink(writer: output), zip64Threshold: zip64Threshold)
        try add(arrays, to: &zip, compressed: compressed)
        try output.commit()
    }

    static func encode(_ arrays: [NamedTensor], compressed: Bool, zip64Threshold: UInt64) throws -> [UInt8] {
        try checkNames(arrays, file: "")
        var zip = ZipWriter(sink: ZipMemorySink(), zip64Threshold: zip64Threshold)
        try add(arrays, to: &zip, compressed: compressed)
        return zip.sink.bytes
    }

    /// Member names must be unique and fit the ZIP's 16-bit name length (with the `.npy` suffix).
    private static func checkNames(_ arrays: [NamedTensor], file: String) throws {
        var seen = Set<String>()
        for a in arrays {
            guard seen.insert(a.name).inserted else { throw NPZError.duplicateName(file: file, member: a.name) }
            guard a.name.utf8.count + 4 <= 0xffff else {
                throw NPZError.badArchive(file: file, member: a.name, detail: "a member name cannot exceed 65535 bytes")
            }
        }
    }

    private static func add<S: ZipSink>(_ arrays: [NamedTensor], to zip: inout ZipWriter<S>, compressed: Bool) throws {
        for a in arrays {
            let (header, data) = NPY.encodedParts(a.tensor)
            let crc = ZipCRC32.update(ZipCRC32.update(0, header), data)
            let size = header.count + data.count
            if compressed {
                let deflated = ZipDeflate.compress([header, data])
                try zip.addMember(
                    name: a.name + ".npy", method: Zip.methodDeflate, crc: crc, uncompressedSize: size,
                    pieces: [deflated])
            } else {
                try zip.addMember(
                    name: a.name + ".npy", method: Zip.methodStored, crc: crc, uncompressedSize: size,
                    pieces: [header, data])
            }
        }
        try zip.finish()
    }

    // MARK: - Reading

    /// - Parameter decoded: called with each member's byte range once its array is decoded.
    static func read(
        archive: UnsafeRawBufferPointer, file: String, decoded: (Range<Int>) -> Void = { _ in }
    ) throws -> [NamedTensor] {
        let directory = try ZipDirectory(archive: archive, file: file)
        try refuseCompressionBomb(directory, file: file)
        var arrays: [NamedTensor] = []
        var seen = Set<String>()
        for entry in directory.entries where !entry.isDirectory {
            let name = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            guard seen.insert(name).inserted else { throw NPZError.duplicateName(file: file, member: entry.name) }
            let tensor = try readMember(entry, directory: directory, file: file)
            arrays.append(NamedTensor(name: name, tensor: tensor))
            decoded(try directory.dataRange(of: entry))
        }
        return arrays
    }

    /// Judged from the ZIP headers before a byte is inflated: members deflated beyond `Zip.maxAcceptedRatio` may
    /// together inflate to at most `Zip.maxHighRatioBytes`. Real weights deflate to 0.8–0.95 of their size; a
    /// tensor of zeros (a fresh bias, a 68 MiB test array) reaches ~1030:1 and is still read, but a 1 MB archive
    /// cannot make effnet allocate a gigabyte. Claims beyond what deflate can produce are left to `readMember`.
    static func refuseCompressionBomb(_ directory: ZipDirectory, file: String) throws {
        var total = 0
        for entry in directory.entries where entry.method == Zip.methodDeflate && !entry.isDirectory {
            let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: Zip.maxDeflateRatio)
            guard !overflow, entry.uncompressedSize <= bound + 64 else { continue }
            let ratio = entry.uncompressedSize / max(1, entry.compressedSize)
            guard ratio > Zip.maxAcceptedRatio else { continue }
            total += entry.uncompressedSize
            if total > Zip.maxHighRatioBytes {
                throw NPZError.tooLarge(
                    file: file, member: entry.name,
                    detail:
                        "inflates \(entry.compressedSize) bytes to \(entry.uncompressedSize) (\(ratio):1); members compressed beyond \(Zip.maxAcceptedRatio):1 would inflate to \(total) bytes, more than the \(Zip.maxHighRatioBytes) accepted: refused as a compression bomb"
                )
            }
        }
    }

    /// Decodes one member, checking its method, sizes and CRC-32 against the central directory.
    private static func readMember(_ entry: ZipEntry, directory: ZipDirectory, file: String) throws -> Tensor {
        let member = entry.name
        guard !entry.isEncrypted else { throw NPZError.encrypted(file: file, member: member) }
        guard entry.method == Zip.methodStored || entry.method == Zip.methodDeflate else {
            throw NPZError.unsupportedCompression(file: file, member: member, method: entry.method)
        }
        let range = try directory.dataRange(of: entry)
        let data = UnsafeRawBufferPointer(rebasing: directory.archive[range])
        do {
            if entry.method == Zip.methodStored {
                guard entry.compressedSize == entry.uncompressedSize else {
                    throw NPZError.sizeMismatch(
                        file: file, member: member,
                        detail:
                            "stored member of \(entry.compressedSize) bytes declares \(entry.uncompressedSize) uncompressed"
                    )
                }
                // CRC first: corrupt data is reported as such, not as whatever its header then looks like.
                let crc = ZipCRC32.update(0, data)
                guard crc == entry.crc32 else {
                    throw NPZError.badCRC(file: file, member: member, stored: entry.crc32, computed: crc)
                }
                var source = NPYMemorySource(data)
                return try NPY.decode(from: &source, name: member)
            }
            // Deflate cannot expand more than 1032:1: a larger claim is refused before allocating for it.
            let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: Zip.maxDeflateRatio)
            guard overflow || entry.uncompressedSize <= bound + 64 else {
                throw NPZError.sizeMismatch(
                    file: file, member: member,
                    detail:
                        "declares \(entry.uncompressedSize) bytes from \(entry.compressedSize) deflated bytes, more than deflate can produce"
                )
            }
            try MemoryBudget.check(
                entry.uncompressedSize, for: "member '\(member)' (\(entry.uncompressedSize) bytes uncompressed)")
            var source = try NPYInflateSource(
                compressed: data, uncompressedSize: entry.uncompressedSize, file: file, member: member)
            let tensor = try NPY.decode(from: &source, name: member)
            try source.finish()
            guard source.crc == entry.crc32 else {
                throw NPZError.badCRC(file: file, member: member, stored: entry.crc32, computed: source.crc)
            }
            return tensor
        } catch let error as NPZError {
            throw error.file.isEmpty ? error.inFile(file) : error
        }
    }
}
