/// Structural and semantic problems found in a graph. Each names the node and values involved so that the CLI
/// can print one line a user can act on.
public enum IRError: Error, CustomStringConvertible, Equatable {
    case duplicateValue(String, node: String)
    case missingInput(String, node: String)
    case cycle(nodes: [String])
    case missingOutput(String)
    case invalidNode(node: String, message: String)
    case unsupportedOps([UnsupportedOp])

    public struct UnsupportedOp: Equatable, Sendable {
        public var opType: String
        public var domain: String
        public var node: String
        public init(opType: String, domain: String, node: String) {
            self.opType = opType
            self.domain = domain
            self.node = node
        }
    }

    public var description: String {
        switch self {
        case .duplicateValue(let v, let node): "value '\(v)' is produced twice (again by node '\(node)')"
        case .missingInput(let v, let node): "node '\(node)' reads '\(v)', which nothing produces"
        case .cycle(let nodes):
            "the graph has a cycle through \(nodes.prefix(5).map { "'\($0)'" }.joined(separator: ", "))"
        case .missingOutput(let v): "graph output '\(v)' is not produced by any node, input or initializer"
        case .invalidNode(let node, let message): "node '\(node)': \(message)"
        case .unsupportedOps(let ops):
            "unsupported operators: "
                + ops.map { "\($0.domain.isEmpty ? "" : $0.domain + ".")\($0.opType) (node '\($0.node)')" }
                .joined(separator: ", ")
        }
    }
}
