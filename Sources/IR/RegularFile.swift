#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opening an input file that must be a regular file, without ever blocking.
///
/// `open(2)` on a FIFO blocks until a writer appears (forever, for a model path that names one), and a character
/// device such as `/dev/zero` reads forever. So every input is opened with `O_NONBLOCK` (which makes `open` of a
/// FIFO return at once and means nothing for a regular file), then `fstat`-checked to be a regular file before a
/// byte is read; anything else is refused with a reason naming what it is.
public enum RegularFile {
    /// Why an input could not be opened, in words for an error message (`no such file`, `is a FIFO`, …).
    public struct OpenFailure: Error, Sendable, Equatable {
        public let reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// Opens `path` read-only and returns its descriptor and size; the caller closes the descriptor.
    public static func open(_ path: String) throws(OpenFailure) -> (descriptor: Int32, size: Int) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw OpenFailure(reason: errnoText()) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = errnoText()
            close(fd)
            throw OpenFailure(reason: reason)
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(fd)
            throw OpenFailure(reason: describe(kind))
        }
        // Back to blocking reads for the regular file (O_NONBLOCK has no effect on them, but be plain).
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return (fd, Int(info.st_size))
    }

    /// Reads a whole regular file (at most `limit` bytes, else `too large`).
    public static func readAll(_ path: String, limit: Int = Int.max) throws(OpenFailure) -> [UInt8] {
        let (fd, size) = try open(path)
        defer { close(fd) }
        guard size <= limit else {
            throw OpenFailure(reason: "too large (\(size) bytes; the limit is \(limit))")
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(size)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw OpenFailure(reason: errnoText())
            }
            if n == 0 { break }
            guard bytes.count + n <= limit else { throw OpenFailure(reason: "too large (grew while reading)") }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// "is a directory", "is a FIFO (named pipe), not a regular file", …
    static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFDIR: "is a directory"
        case S_IFIFO: "is a FIFO (named pipe), not a regular file"
        case S_IFCHR: "is a character device, not a regular file"
        case S_IFBLK: "is a block device, not a regular file"
        case S_IFSOCK: "is a socket, not a regular file"
        default: "not a regular file"
        }
    }

    public static func errnoText() -> String {
        switch errno {
        case ENOENT: "no such file"
        case EACCES: "permission denied"
        case EISDIR: "is a directory"
        case ENXIO: "no such device (a FIFO or socket with nothing behind it?)"
        default: String(cString: strerror(errno))
        }
    }
}
