/// What kind of model a file holds, judged by its content rather than its extension.
///
/// ZIP archives (`PK\x03\x04`, or `PK\x05\x06` for an empty archive) are `.npz` checkpoints; anything else that is
/// not empty and not a Git LFS pointer is taken to be an ONNX protobuf, which `ONNXReader` then parses (protobuf has
/// no magic number, so only parsing can tell a real model from garbage).
public enum ModelFileKind: String, Sendable, CustomStringConvertible {
    case onnx
    case npz

    public var description: String { rawValue }

    /// Sniffs the first bytes of `path`.
    public static func detect(path: String) throws -> ModelFileKind {
        let file: InputFile
        let prefix: [UInt8]
        do {
            file = try InputFile(path: path)
            prefix = try file.read(offset: 0, count: min(file.size, FileSignature.prefixLength))
        } catch {
            throw ModelFileError.cannotOpen(path: path, reason: error.reason)
        }
        switch FileSignature(prefix: prefix) {
        case .empty: throw ModelFileError.empty(path: path)
        case .gitLFSPointer: throw ModelFileError.gitLFSPointer(path: path)
        case .zip: return .npz
        case .other: return .onnx
        }
    }
}

/// Why a model file's kind could not be determined.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case empty(path: String)
    case gitLFSPointer(path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot open: \(reason)"
        case .empty(let path): "\(path): the file is empty, not a model"
        case .gitLFSPointer(let path): "\(path): is a Git LFS pointer, not the model; run `git lfs pull`"
        }
    }
}

/// The content classes that matter before parsing: files a protobuf parser would misreport.
enum FileSignature: Equatable {
    case empty
    case gitLFSPointer
    case zip
    case other

    /// Bytes needed to tell the classes apart.
    static let prefixLength = 64

    private static let lfsHeader = Array("version https://git-lfs.github.com/spec/v1".utf8)

    init(prefix: some Collection<UInt8>) {
        let head = Array(prefix.prefix(Self.prefixLength))
        if head.isEmpty {
            self = .empty
        } else if head.starts(with: Self.lfsHeader) {
            self = .gitLFSPointer
        } else if head.starts(with: [0x50, 0x4b, 0x03, 0x04]) || head.starts(with: [0x50, 0x4b, 0x05, 0x06]) {
            self = .zip
        } else {
            self = .other
        }
    }
}
