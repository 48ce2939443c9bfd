import IR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A regular file opened read-only, owning its descriptor (closed in `deinit`); the one way the ONNX and NPZ
/// readers read files.
///
/// Reads either a byte range (`pread`, so that external data reads only what a tensor needs) or maps the whole
/// file for the duration of a call (an ONNX model for its wire-format scan, an `.npz` archive of several hundred
/// MB without first copying it), dropping pages from the resident set once their bytes have been copied.
final class InputFile {
    let path: String
    let size: Int
    private let descriptor: Int32
    /// The mapping `withMappedBytes` made, while its body runs.
    private var mapping: UnsafeMutableRawPointer?

    /// Why opening failed, in words for an error message (`no such file`, `is a directory`, …).
    struct OpenFailure: Error {
        let reason: String
    }

    init(path: String) throws(OpenFailure) {
        self.path = path
        // O_NONBLOCK + fstat (`RegularFile`): a FIFO, device or directory is refused instead of read or waited on.
        do {
            (descriptor, size) = try RegularFile.open(path)
        } catch {
            throw OpenFailure(reason: error.reason)
        }
    }

    deinit { close(descriptor) }

    /// Reads `count` bytes at `offset`; the caller has checked the range against `size`.
    func read(offset: Int, count: Int) throws(OpenFailure) -> [UInt8] {
        precondition(offset >= 0 && count >= 0 && offset <= size && count <= size - offset, "range outside file")
        var failure: OpenFailure?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0, errno == EINTR { continue }
                if n <= 0 {
                    failure = OpenFailure(reason: n == 0 ? "file shrank while reading" : Self.errnoText())
                    break
                }
                done += n
            }
            initialized = failure == nil ? count : 0
        }
        if let failure { throw failure }
        return bytes
    }

    /// Calls `body` with the whole file's bytes, memory-mapped for the duration of the call.
    func withMappedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if size == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), base != MAP_FAILED else {
            // Mapping can fail on exotic file systems; fall back to reading the bytes.
            let bytes = try read(offset: 0, count: size)
            return try bytes.withUnsafeBytes(body)
        }
        mapping = base
        defer {
            mapping = nil
            munmap(base, size)
        }
        return try body(UnsafeRawBufferPointer(start: base, count: size))
    }

    /// Takes the pages `withMappedBytes`' body has touched so far out of the process's resident set (they stay in
    /// the page cache, and are read again if touched again).
    ///
    /// Why: a scan that only reads field keys still maps most of the file, since the kernel maps up to 64 KB of
    /// cached pages around each fault (fault-around); measured on an 85 MB model, the nesting check alone made
    /// 68 MB resident. Dropping them before the weights are copied keeps the two from adding up.
    func dropMappedPages() {
        guard let mapping else { return }
        madvise(mapping, size, MADV_DONTNEED)
    }

    /// Takes the pages holding `range` of the mapped file out of the resident set (an `.npz` member once decoded).
    func dropMappedPages(_ range: Range<Int>) {
        guard let mapping, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page
        let end = min(size, (range.upperBound + page - 1) / page * page)
        madvise(mapping + start, end - start, MADV_DONTNEED)
    }

    static func errnoText() -> String {
        switch errno {
        case ENOENT: "no such file"
        case EACCES: "permission denied"
        case EISDIR: "is a directory"
        default: String(cString: strerror(errno))
        }
    }
}
