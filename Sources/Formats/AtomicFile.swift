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
/// content, never a partial file, and so that nothing is left behind whatever happens to the process.
///
/// The bytes go to an unnamed file created with `O_TMPFILE` in the destination's directory: it has no name until
/// `commit()` links it (under a hidden name, then `rename` over the destination, the only atomic replace), so an
/// error, a signal or `kill -9` before the commit leaves nothing in the directory; the kernel frees the inode when
/// the descriptor closes. Where the file system lacks `O_TMPFILE`, the fallback is a hidden `.NAME.effnet-XXXXXX`
/// file that is unlinked when the writer is dropped and by a SIGINT/SIGTERM/SIGHUP handler (`TemporaryFiles`);
/// only `kill -9` of that fallback can leave it.
public final class AtomicFileWriter {
    public let path: String
    private let directory: String
    private let base: String
    /// The named temporary file (fallback), or nil for an unnamed `O_TMPFILE` inode.
    private var temporaryPath: String?
    /// The fallback's slot in the signal handler's table.
    private var cleanupSlot: Int?
    private var descriptor: Int32
    private var committed = false

    public init(path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        directory = dir.isEmpty ? "/" : dir
        base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        // Test hook (README, "Nothing left behind"): the tests take the fallback path below on purpose. It exists in
        // release builds too, because the test command runs every test against the release binary.
        let forceFallback = getenv("EFFNET_TEST_NO_TMPFILE") != nil
        let unnamed = forceFallback ? -1 : open(directory, Self.oTmpfile | O_WRONLY | O_CLOEXEC, 0o666)
        if unnamed >= 0 {
            descriptor = unnamed
            return
        }
        if !forceFallback && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL {
            // The directory itself is the problem (missing, not writable): say so.
            throw FileWriteError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        // The name is registered for the interrupt handler before the file exists (registering also installs the
        // handler), so a signal at any moment removes it: with mkstemp, one arriving between creating and
        // registering the file left it behind. O_EXCL makes the name ours, as mkstemp did; the mode is 0666 & ~umask.
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var fd: Int32 = -1
        var name = ""
        for _ in 0..<100 {
            name = "\(directory)/.\(base).effnet-" + String((0..<6).map { _ in letters.randomElement()! })
            cleanupSlot = TemporaryFiles.register(name)
            fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { break }
            let error = errno
            if let slot = cleanupSlot { TemporaryFiles.unregister(slot) }
            cleanupSlot = nil
            errno = error
            if error != EEXIST { break }
        }
        guard fd >= 0 else {
            throw FileWriteError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        descriptor = fd
        temporaryPath = name
    }

    /// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`; the C macro is not imported into Swift).
    static let oTmpfile: Int32 = 0o20_000_000 | O_DIRECTORY

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
        // Fault injection for the kill -9 and signal tests: hold the finished temporary file before the rename (at
        // most 60 s). In release builds too, as the fallback hook above.
        if let delay = getenv("EFFNET_TEST_COMMIT_DELAY_MS").flatMap({ Int(String(cString: $0)) }), delay > 0 {
            usleep(UInt32(min(delay, 60_000)) * 1000)
        }
        if fsync(descriptor) != 0 {
            throw FileWriteError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        if temporaryPath == nil {
            // Give the unnamed inode a hidden name (linkat cannot replace an existing file), then rename it over
            // the destination. Only the microseconds between the two calls ever show a temporary name.
            var attempt = 0
            while true {
                let name = "\(directory)/.\(base).effnet-\(getpid())-\(attempt)"
                cleanupSlot = TemporaryFiles.register(name)  // before the name exists, as in init
                if linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0 {
                    temporaryPath = name
                    break
                }
                let error = errno
                releaseSlot()
                errno = error
                if errno != EEXIST || attempt > 100 {
                    throw FileWriteError.writeFailed(path: path, reason: String(cString: strerror(errno)))
                }
                attempt += 1
            }
        }
        close(descriptor)
        descriptor = -1
        let temporary = temporaryPath!
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            releaseSlot()
            throw FileWriteError.writeFailed(path: path, reason: reason)
        }
        releaseSlot()
        committed = true
    }

    private func releaseSlot() {
        if let cleanupSlot { TemporaryFiles.unregister(cleanupSlot) }
        cleanupSlot = nil
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed, let temporaryPath { unlink(temporaryPath) }
        releaseSlot()
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.write(bytes)
        try writer.commit()
    }
}

/// Named temporary files to unlink if the process is interrupted (SIGINT, SIGTERM, SIGHUP): the fallback when
/// `O_TMPFILE` is unavailable, and the instant between `linkat` and `rename`.
///
/// The handler may only call async-signal-safe functions, so the table is a fixed array of C strings allocated up
/// front; the handler unlinks each, restores the default action and re-raises the signal (so the exit status
/// still says which signal ended the process).
enum TemporaryFiles {
    static let capacity = 16
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        // A parent may have left these signals blocked (test runners, runtimes whose threads mask them); then an
        // interrupt would wait until exit instead of ending the conversion. Unblock them for this thread.
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { sig in
                for i in 0..<TemporaryFiles.capacity {
                    if let name = TemporaryFiles.slots[i] { unlink(name) }
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
        return p
    }()

    /// Records `path` for the handler (writers run on one thread at a time); nil when the table is full (the file is then only removed by `deinit`).
    static func register(_ path: String) -> Int? {
        let table = slots
        for i in 0..<capacity where table[i] == nil {
            table[i] = strdup(path)
            return i
        }
        return nil
    }

    static func unregister(_ slot: Int) {
        let name = slots[slot]
        slots[slot] = nil
        free(name)
    }
}
