/// Reads a ZIP archive's member list: end-of-central-directory record (and its ZIP64 record and locator),
/// central directory entries (with ZIP64 extra fields), and each member's local header.
///
/// Every size and offset is checked against the archive's length before it is used, so a corrupt or hostile
/// archive fails with an `NPZError` instead of reading out of bounds or allocating what it claims. Sizes and
/// CRCs come from the central directory, which is authoritative: members written with data descriptors
/// (flag bit 3, zeros in the local header) read the same way as any other.
struct ZipDirectory {
    let archive: UnsafeRawBufferPointer
    let file: String
    private(set) var entries: [ZipEntry] = []

    init(archive: UnsafeRawBufferPointer, file: String) throws {
        self.archive = archive
        self.file = file
        try read()
    }

    private func truncated(_ detail: String, _ member: String? = nil) -> NPZError {
        .truncated(file: file, member: member, detail: detail)
    }

    private func bad(_ detail: String, _ member: String? = nil) -> NPZError {
        .badArchive(file: file, member: member, detail: detail)
    }

    private mutating func read() throws {
        let size = archive.count
        guard size > 0 else { throw truncated("the file is empty") }
        guard let end = findEnd() else { throw noEndRecord() }

        var entryCount = Int(archive.u16(end + 10))
        var cdSize = UInt64(archive.u32(end + 12))
        var cdOffset = UInt64(archive.u32(end + 16))
        var cdEnd = end  // the central directory is followed by the ZIP64 end record or the end record

        // ZIP64: a locator right before the end record points at the ZIP64 end record, whose values win.
        let locator = end - Zip.zip64LocatorSize
        if locator >= 0, archive.u32(locator) == Zip.zip64LocatorSignature {
            // The record normally sits right before the locator; with data prepended to the archive the stated
            // offset is off by the prefix length, so the adjacent position is tried too (as Python's zipfile does).
            let stated = archive.u64(locator + 8)
            let candidates = [stated < UInt64(locator) ? Int(stated) : -1, locator - Zip.zip64EndSize]
            guard
                let record = candidates.first(where: {
                    $0 >= 0 && $0 <= locator - Zip.zip64EndSize && archive.u32($0) == Zip.zip64EndSignature
                })
            else { throw bad("the ZIP64 locator points at byte \(stated), where there is no ZIP64 end record") }
            guard let count = Int(exactly: archive.u64(record + 32)) else { throw bad("ZIP64 entry count too large") }
            entryCount = count
            cdSize = archive.u64(record + 40)
            cdOffset = archive.u64(record + 48)
            cdEnd = record
        } else if cdSize == 0xffff_ffff || cdOffset == 0xffff_ffff {
            // 32-bit fields at their maximum announce ZIP64, but the locator is missing: the values are unusable.
            // (An entry count of 0xFFFF may be exact, so it is left to the checks below.)
            throw bad("the end record announces ZIP64 but has no ZIP64 locator")
        }

        // The central directory must fit between its offset and its end; data prepended to the archive (a
        // self-extractor stub) shifts every offset by the same amount, as Python's zipfile allows.
        guard cdSize <= UInt64(cdEnd) else {
            throw truncated("the central directory (\(cdSize) bytes) is larger than the \(cdEnd) bytes before its end")
        }
        let cdStart = cdEnd - Int(cdSize)
        guard cdOffset <= UInt64(cdStart) else {
            throw truncated(
                "the central directory should start at byte \(cdOffset) but the archive has only \(cdStart) bytes before it"
            )
        }
        let shift = cdStart - Int(cdOffset)

        // Each entry takes at least 46 bytes: a count that cannot fit is corrupt (and never sizes an allocation).
        guard entryCount <= Int(cdSize) / Zip.centralHeaderSize else {
            throw bad("\(entryCount) entries cannot fit in a \(cdSize)-byte central directory")
        }
        entries.reserveCapacity(entryCount)
        var p = cdStart
        for index in 0..<entryCount {
            let entry = try readCentralEntry(at: &p, limit: cdEnd, index: index, shift: shift)
            entries.append(entry)
        }
    }

    /// Scans back from the end for the end-of-central-directory record (it may be followed by a comment of up
    /// to 65535 bytes); returns its offset.
    private func findEnd() -> Int? {
        let size = archive.count
        guard size >= Zip.endSize else { return nil }
        let lowest = max(0, size - Zip.endSize - 0xffff)
        var p = size - Zip.endSize
        while p >= lowest {
            if archive.u32(p) == Zip.endSignature, p + Zip.endSize + Int(archive.u16(p + 20)) <= size {
                return p
            }
            p -= 1
        }
        return nil
    }

    /// Explains a missing end record by what the file starts with.
    private func noEndRecord() -> NPZError {
        let head = Array(archive.prefix(32))
        func starts(_ s: [UInt8]) -> Bool { head.starts(with: s) }
        if starts([0x50, 0x4b, 0x03, 0x04]) || starts([0x50, 0x4b, 0x05, 0x06]) {
            return truncated("no end-of-central-directory record: the archive is cut short")
        }
        let detail: String
        if starts([0x93] + Array("NUMPY".utf8)) {
            detail = "is a single .npy array, not an .npz (ZIP) archive"
        } else if starts(Array("version https://git-lfs".utf8)) {
            detail = "is a Git LFS pointer, not the archive; run `git lfs pull`"
        } else if starts([0x80]) {
            detail = "is a Python pickle (torch.save?), not an .npz (ZIP) archive; pickles are never loaded"
        } else {
            detail = "not an .npz archive (no ZIP signature)"
        }
        return .badMagic(file: file, member: nil, detail: detail)
    }

    private func readCentralEntry(at p: inout Int, limit: Int, index: Int, shift: Int) throws -> ZipEntry {
        guard limit - p >= Zip.centralHeaderSize else {
            throw truncated("the central directory ends inside entry \(index)")
        }
        guard archive.u32(p) == Zip.centralHeaderSignature else {
            throw bad("central directory entry \(index) at byte \(p) has a bad signature")
        }
        let nameLength = Int(archive.u16(p + 28))
        let extraLength = Int(archive.u16(p + 30))
        let commentLength = Int(archive.u16(p + 32))
        let total = Zip.centralHeaderSize + nameLength + extraLength + commentLength
        guard limit - p >= total else { throw truncated("the central directory ends inside entry \(index)") }
        let flags = archive.u16(p + 8)
        let nameBytes = UnsafeRawBufferPointer(rebasing: archive[(p + 46)..<(p + 46 + nameLength)])
        let name = Zip.decodeName(nameBytes, utf8: flags & Zip.flagUTF8 != 0)

        var uncompressed = UInt64(archive.u32(p + 24))
        var compressed = UInt64(archive.u32(p + 20))
        var offset = UInt64(archive.u32(p + 42))
        let extra = UnsafeRawBufferPointer(
            rebasing: archive[(p + 46 + nameLength)..<(p + 46 + nameLength + extraLength)])
        try readZip64Extra(extra, uncompressed: &uncompressed, compressed: &compressed, offset: &offset, member: name)

        guard let u = Int(exactly: uncompressed), let c = Int(exactly: compressed),
            let o = Int(exactly: offset), o <= Int.max - shift
        else { throw bad("sizes or offset out of range", name) }
        let entry = ZipEntry(
            name: name, rawName: Array(nameBytes), flags: flags, method: archive.u16(p + 10),
            crc32: archive.u32(p + 16), compressedSize: c, uncompressedSize: u, localHeaderOffset: o + shift)
        p += total
        return entry
    }

    /// Replaces the 32-bit fields that hold 0xFFFFFFFF by the 8-byte values of the ZIP64 extra field, which
    /// lists exactly those fields, in the order uncompressed size, compressed size, local header offset.
    private func readZip64Extra(
        _ extra: UnsafeRawBufferPointer, uncompressed: inout UInt64, compressed: inout UInt64,
        offset: inout UInt64, member: String
    ) throws {
        var q = 0
        while extra.count - q >= 4 {
            let tag = extra.u16(q)
            let length = Int(extra.u16(q + 2))
            guard extra.count - q - 4 >= length else { throw bad("extra field \(tag) overruns its entry", member) }
            if tag == Zip.zip64ExtraTag {
                var r = q + 4
                let end = r + length
                func take(_ field: inout UInt64) throws {
                    guard field == 0xffff_ffff else { return }
                    guard end - r >= 8 else { throw bad("the ZIP64 extra field lacks a size or offset", member) }
                    field = extra.u64(r)
                    r += 8
                }
                try take(&uncompressed)
                try take(&compressed)
                try take(&offset)
            }
            q += 4 + length
        }
    }

    /// The byte range of `entry`'s (possibly compressed) data, after its local header.
    func dataRange(of entry: ZipEntry) throws -> Range<Int> {
        let p = entry.localHeaderOffset
        guard p <= archive.count - Zip.localHeaderSize else {
            throw truncated(
                "the local header at byte \(p) lies past the end of the \(archive.count)-byte archive", entry.name)
        }
        guard archive.u32(p) == Zip.localHeaderSignature else {
            throw bad("no local header at byte \(p)", entry.name)
        }
        let nameLength = Int(archive.u16(p + 26))
        let extraLength = Int(archive.u16(p + 28))
        let start = p + Zip.localHeaderSize + nameLength + extraLength
        guard start <= archive.count else {
            throw truncated("the local header runs past the end of the archive", entry.name)
        }
        let localName = UnsafeRawBufferPointer(rebasing: archive[(p + 30)..<(p + 30 + nameLength)])
        guard localName.elementsEqual(entry.rawName) else {
            throw bad(
                "the local header names '\(Zip.decodeName(localName, utf8: true))', the directory '\(entry.name)'",
                entry.name)
        }
        guard entry.compressedSize <= archive.count - start else {
            throw truncated(
                "\(entry.compressedSize) bytes of data announced at byte \(start), the archive has \(archive.count - start) left",
                entry.name)
        }
        return start..<(start + entry.compressedSize)
    }
}
