import KernelCore
import IR

/// Problems found while planning or running a graph, in either runtime (the reference interpreter or the native
/// plan): bad feeds (each names the input) and nodes that cannot be executed or fail on their values (each names
/// the node).
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// A model input that the feeds do not provide.
    case missingInput(String, expected: [String])
    /// A feed that is not a model input.
    case unknownInput(String, expected: [String])
    /// A feed whose dtype or shape does not fit the input's declaration.
    case badInput(String, message: String)
    /// A node failed on its actual inputs (data-dependent errors such as a Gather index out of range).
    case nodeFailed(node: String, message: String)
    /// The graph uses something this runtime cannot execute (checked before running).
    case unsupportedNode(node: String, opType: String, reason: String)
    /// A node reads a value the plan does not have.
    case unknownValue(String, node: String)
    /// A node input the native plan needs at planning time (pads, axes, shapes) is computed at run time.
    case nonConstant(value: String, node: String, reason: String)
    case invalidGraph(String)
    /// A plan needs the original of a weight the session released after packing it (see `SessionWeights`).
    case releasedWeight(String, node: String)

    public var description: String {
        switch self {
        case .missingInput(let name, let expected):
            "input '\(name)' is not fed (the model's inputs are \(expected.map { "'\($0)'" }.joined(separator: ", ")))"
        case .unknownInput(let name, let expected):
            "'\(name)' is not an input of the model (its inputs are \(expected.map { "'\($0)'" }.joined(separator: ", ")))"
        case .badInput(let name, let message): "input '\(name)': \(message)"
        case .nodeFailed(let node, let message): "node '\(node)': \(message)"
        case .unsupportedNode(let node, let op, let reason):
            reason.contains("not supported")
                ? "node '\(node)' (\(op)): \(reason)" : "node '\(node)' (\(op)): not supported by the native runtime: \(reason)"
        case .unknownValue(let v, let node): "node '\(node)' reads '\(v)', which is not available"
        case .nonConstant(let v, let node, let reason):
            "node '\(node)': '\(v)' is computed at run time, which is not supported by the native runtime; only a constant \(reason)"
        case .invalidGraph(let m): m
        case .releasedWeight(let v, let node):
            "node '\(node)': weight '\(v)' was released once packed, and this plan needs it in another form"
        }
    }
}
