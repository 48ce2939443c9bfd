import IR

/// Problems found while running a graph: bad feeds (each names the input) and failures of a node on the
/// values it was given (each names the node).
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
    case unsupported(node: String, message: String)

    public var description: String {
        switch self {
        case .missingInput(let name, let expected):
            "input '\(name)' is not fed (the model's inputs are \(expected.map { "'\($0)'" }.joined(separator: ", ")))"
        case .unknownInput(let name, let expected):
            "'\(name)' is not an input of the model (its inputs are \(expected.map { "'\($0)'" }.joined(separator: ", ")))"
        case .badInput(let name, let message): "input '\(name)': \(message)"
        case .nodeFailed(let node, let message): "node '\(node)': \(message)"
        case .unsupported(let node, let message): "node '\(node)': \(message)"
        }
    }
}
