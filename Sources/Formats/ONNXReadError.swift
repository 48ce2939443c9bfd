import IR

/// Why an ONNX file could not be read. Every case names the file, and the node, tensor or value involved, so
/// that the CLI can print `effnet: <description>` as one line a user can act on.
public enum ONNXReadError: Error, CustomStringConvertible, Equatable {
    /// The file is missing, a directory, or unreadable.
    case cannotOpen(file: String, reason: String)
    /// The file has no bytes.
    case emptyFile(file: String)
    /// The file is a Git LFS pointer (`version https://git-lfs.github.com/spec/v1`): the weights were never fetched.
    case gitLFSPointer(file: String)
    /// The file is a ZIP archive (an `.npz` checkpoint), not a protobuf.
    case zipArchive(file: String)
    /// The bytes are not an ONNX `ModelProto` (protobuf-c refused them, or they are text).
    case notONNX(file: String, reason: String)
    /// The protobuf parsed but holds no graph.
    case noGraph(file: String)
    /// A tensor's type, shape or data is unusable.
    case tensor(file: String, tensor: String, problem: String)
    /// A tensor stored outside the model file cannot be located or read safely.
    case externalData(file: String, tensor: String, problem: String)
    /// A node (or one of its attributes) cannot be mapped onto the IR.
    case node(file: String, node: String, problem: String)
    /// A graph-level problem: duplicate initializers, non-tensor inputs, sparse initializers, nesting too deep.
    case graph(file: String, problem: String)
    /// The converted graph breaks SSA/topology rules or uses operators effnet does not support.
    case invalidGraph(file: String, error: IRError)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .cannotOpen(let file, _), .emptyFile(let file), .gitLFSPointer(let file), .zipArchive(let file),
            .notONNX(let file, _), .noGraph(let file), .tensor(let file, _, _), .externalData(let file, _, _),
            .node(let file, _, _), .graph(let file, _), .invalidGraph(let file, _):
            file
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let file, let reason): "\(file): cannot open: \(reason)"
        case .emptyFile(let file): "\(file): the file is empty, not an ONNX model"
        case .gitLFSPointer(let file): "\(file): is a Git LFS pointer, not the model; run `git lfs pull`"
        case .zipArchive(let file): "\(file): is a ZIP archive (an .npz checkpoint?), not an ONNX model"
        case .notONNX(let file, let reason): "\(file): not an ONNX model (\(reason))"
        case .noGraph(let file): "\(file): not an ONNX model (it parses as protobuf but holds no graph)"
        case .tensor(let file, let tensor, let problem): "\(file): tensor '\(tensor)': \(problem)"
        case .externalData(let file, let tensor, let problem): "\(file): tensor '\(tensor)': external data: \(problem)"
        case .node(let file, let node, let problem): "\(file): node '\(node)': \(problem)"
        case .graph(let file, let problem): "\(file): \(problem)"
        case .invalidGraph(let file, let error): "\(file): \(error)"
        }
    }
}
