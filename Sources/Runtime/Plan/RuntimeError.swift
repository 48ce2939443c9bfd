/// Why a graph cannot be planned or run by the fast runtime. Each names the node or value involved.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    case unsupportedNode(node: String, opType: String, reason: String)
    case missingFeed(String)
    case badFeed(name: String, reason: String)
    case unknownValue(String, node: String)
    case nonConstant(value: String, node: String, reason: String)
    case invalidGraph(String)

    public var description: String {
        switch self {
        case .unsupportedNode(let node, let op, let reason): "node '\(node)' (\(op)): \(reason)"
        case .missingFeed(let name): "no value fed for graph input '\(name)'"
        case .badFeed(let name, let reason): "input '\(name)': \(reason)"
        case .unknownValue(let v, let node): "node '\(node)' reads '\(v)', which is not available"
        case .nonConstant(let v, let node, let reason): "node '\(node)': '\(v)' must be a constant (\(reason))"
        case .invalidGraph(let m): m
        }
    }
}
