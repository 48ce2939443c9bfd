// libFuzzer target: ONNX external-data resolution (built by tools/fuzz.sh, not by SwiftPM). One input is a model
// and its data file: a 2-byte little-endian length n, then n bytes of ONNX model, then the bytes of
// `model.onnx.data`. Both are written into a fixed scratch folder that also holds what a hostile model might point
// at: a symbolic link leaving the folder (`link.bin -> ../outside.bin`), a subfolder `sub/`, a FIFO `fifo` (would
// block if opened before it is checked), a directory `dir.bin`, and a 48-byte `sub/inner.bin`. The model is read
// with that folder as its home, so `location`, `offset` and `length` entries are resolved, range-checked and read
// for real. Every input must either parse or throw an error; a trap, a hang, an ASan report or a leak is a
// finding.
@testable import Formats

#if canImport(Glibc)
    import Glibc
#endif

/// The scratch folder, made once per process: `<tmp>/outside.bin`, `<tmp>/m/{link.bin,sub/inner.bin,fifo,dir.bin}`.
let scratch: String = {
    let base = FileManagerless.tempBase()
    var template = Array("\(base)/effnet-fuzz-external-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    let root = String(cString: made)
    let folder = root + "/m"
    mkdir(folder, 0o700)
    mkdir(folder + "/sub", 0o700)
    mkdir(folder + "/dir.bin", 0o700)
    mkfifo(folder + "/fifo", 0o600)
    FileManagerless.write(root + "/outside.bin", [UInt8](repeating: 7, count: 48))
    FileManagerless.write(folder + "/sub/inner.bin", [UInt8](repeating: 1, count: 48))
    symlink("../outside.bin", folder + "/link.bin")
    return folder
}()

/// Plain POSIX file helpers (the harness links no Foundation).
enum FileManagerless {
    static func tempBase() -> String {
        // /dev/shm keeps the per-input writes off the disk when it exists.
        var info = stat()
        if stat("/dev/shm", &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return "/dev/shm" }
        return "/tmp"
    }

    static func write(_ path: String, _ bytes: some Collection<UInt8>) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("cannot write \(path)") }
        let array = Array(bytes)
        var done = 0
        array.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { break }
                done += n
            }
        }
        close(fd)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExternalData(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard bytes.count >= 2 else { return 0 }
    let modelLength = min(Int(bytes[0]) | Int(bytes[1]) << 8, bytes.count - 2)
    let model = Array(bytes[2..<(2 + modelLength)])
    FileManagerless.write(scratch + "/model.onnx.data", bytes[(2 + modelLength)...])
    _ = try? ONNXReader.read(bytes: model, file: "fuzz.onnx", folder: scratch)
    return 0
}
