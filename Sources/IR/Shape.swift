/// One dimension of a value's shape: a known size, a named symbolic size (ONNX `dim_param`, such as a
/// dynamic batch `N`), or unknown.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case known(Int)
    case symbol(String)
    case unknown

    public var value: Int? {
        if case .known(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .known(let v): String(v)
        case .symbol(let s): s
        case .unknown: "?"
        }
    }
}

extension Dim: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .known(value) }
}

/// A shape whose rank may be unknown (`nil`) and whose dimensions may be symbolic.
public typealias Shape = [Dim]

extension Array where Element == Dim {
    /// Every dimension as an integer when all are known.
    public var concrete: [Int]? {
        var out = [Int]()
        out.reserveCapacity(count)
        for d in self {
            guard let v = d.value else { return nil }
            out.append(v)
        }
        return out
    }

    public init(_ sizes: [Int]) { self = sizes.map { .known($0) } }

    /// `[N,3,224,224]`.
    public var text: String { "[" + map(\.description).joined(separator: ",") + "]" }
}

/// A named value's type: element type and shape, either of which may be unknown before inference.
public struct ValueInfo: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var dtype: DType?
    public var shape: Shape?

    public init(name: String, dtype: DType?, shape: Shape?) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var description: String {
        "\(name): \(dtype.map(\.rawValue) ?? "?")\(shape?.text ?? "[?]")"
    }
}
