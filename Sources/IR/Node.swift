/// A node attribute, mirroring ONNX `AttributeProto` for the kinds EfficientNetV2 exports use, plus `graph`
/// so that a fused block can record the sub-graph it replaced.
public enum Attribute: Hashable, Sendable {
    case int(Int)
    case ints([Int])
    case float(Float)
    case floats([Float])
    case string(String)
    case strings([String])
    case tensor(Tensor)
    case graph(Graph)
}

/// One operation. `opType` and `domain` follow ONNX (`""` is the default `ai.onnx` domain); an empty input
/// name marks an omitted optional input, as in ONNX.
public struct Node: Hashable, Sendable {
    public var name: String
    public var opType: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public init(
        name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
        attributes: [String: Attribute] = [:]
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// Input `i`, or nil when it is absent or omitted (empty name).
    public func input(_ i: Int) -> String? {
        i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil
    }

    /// `name` when set, otherwise `OpType(first output)`: how errors and dumps refer to a node.
    public var label: String { name.isEmpty ? "\(opType)(\(outputs.first ?? ""))" : name }
}

// MARK: - Typed attribute access

extension Node {
    public func int(_ key: String) -> Int? {
        if case .int(let v) = attributes[key] { return v }
        return nil
    }

    public func ints(_ key: String) -> [Int]? {
        if case .ints(let v) = attributes[key] { return v }
        return nil
    }

    public func float(_ key: String) -> Float? {
        switch attributes[key] {
        case .float(let v): v
        case .int(let v): Float(v)
        default: nil
        }
    }

    public func floats(_ key: String) -> [Float]? {
        if case .floats(let v) = attributes[key] { return v }
        return nil
    }

    public func string(_ key: String) -> String? {
        if case .string(let v) = attributes[key] { return v }
        return nil
    }

    public func tensor(_ key: String) -> Tensor? {
        if case .tensor(let v) = attributes[key] { return v }
        return nil
    }

    public func graph(_ key: String) -> Graph? {
        if case .graph(let v) = attributes[key] { return v }
        return nil
    }
}
