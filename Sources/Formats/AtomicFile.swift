#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Errors from writing output files.
public enum FileWriteError: Error, CustomStringConvertible, Equatable {
    case cannotCreate(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason): "\(path): cannot create output: \(reason)"
        case .writeFailed(let path, let reason): "\(path): write failed: \(reason)"
        }
    }
}

/// Writes a file so that the destination path holds either its old content (or nothing) or the complete new
/// content, never a partial file: bytes go to a temporary file in the same directory, which is flushed with
/// `fsync` and renamed over the destination only by `commit()`. A writer dropped without `commit()` (an error
/// thrown half way) removes its temporary file; a process killed mid-write leaves only a hidden
/// `.NAME.effnet-XXXXXX` file, never a file at the destination.
public final class AtomicFileWriter {
    public let path: String
    private let temporaryPath: String
    private var descriptor: Int32
    private var committed = false

    public init(path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(directory.isEmpty ? "/" : directory)/.\(base).effnet-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw FileWriteError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        descriptor = fd
        temporaryPath = String(cString: template)
        // mkstemp creates 0600; give the file the usual permissions for new files (0666 & ~umask).
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o666 & ~mask)
    }

    /// Appends bytes to the temporary file.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends raw bytes to the temporary file.
    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileWriteError.writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// Flushes the temporary file and renames it onto `path`.
    public func commit() throws {
        precondition(!committed, "commit() called twice")
        #if DEBUG
            // Fault injection for the kill -9 test: hold the finished temporary file before the rename.
            if let delay = getenv("EFFNET_TEST_COMMIT_DELAY_MS").flatMap({ Int(String(cString: $0)) }) {
                usleep(UInt32(delay) * 1000)
            }
        #endif
        if fsync(descriptor) != 0 {
            throw FileWriteError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        close(descriptor)
        descriptor = -1
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw FileWriteError.writeFailed(path: path, reason: reason)
        }
        committed = true
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed { unlink(temporaryPath) }
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.write(bytes)
        try writer.commit()
    }
}
