import IR

/// What a pass needs to know beyond the graph itself.
public struct PassContext: Sendable {
    /// The model's `ai.onnx` operator set version (operators changed their inputs across versions).
    public var opset: Int

    public init(opset: Int) { self.opset = opset }
}

/// What one run of a pass changed: a count and a short human summary such as "folded 59 BatchNormalization".
public struct PassResult: Sendable, Equatable {
    public var changes: Int
    public var summary: String

    public init(changes: Int, summary: String) {
        self.changes = changes
        self.summary = summary
    }

    public static let unchanged = PassResult(changes: 0, summary: "nothing to do")
}

/// A graph-to-graph rewrite that preserves the graph's outputs for every input it accepts.
///
/// A pass is a value with a name; its doc comment states its algebra and preconditions. Passes keep the graph
/// in SSA form and topological order, and never rename graph inputs or outputs.
public protocol GraphPass: Sendable {
    /// Stable, kebab-case name used by `--passes` / `--skip-pass` and in reports.
    var name: String { get }
    func run(_ graph: inout Graph, context: PassContext) throws -> PassResult
}

/// Errors raised by the optimizer.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    case unknownPass(String, known: [String])
    case passFailed(pass: String, message: String)

    public var description: String {
        switch self {
        case .unknownPass(let name, let known):
            "unknown optimizer pass '\(name)' (known: \(known.joined(separator: ", ")))"
        case .passFailed(let pass, let message): "optimizer pass '\(pass)' failed: \(message)"
        }
    }
}
