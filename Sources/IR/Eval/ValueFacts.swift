/// What shape inference knows about one value: its type and, for small tensors, possibly its contents.
///
/// `elements` is the partial knowledge that lets data-dependent shapes resolve even with a dynamic batch:
/// `Shape(x)` of an `[N,3,224,224]` input is known element-wise as `[N,3,224,224]` although it is not a
/// constant, so a later `Gather(…, 2)` yields the constant `224`. It is only kept for integer tensors with
/// a concrete shape of at most `ValueFacts.elementLimit` elements.
public struct ValueFacts: Sendable, Hashable, CustomStringConvertible {
    public var dtype: DType?
    /// nil when even the rank is unknown.
    public var shape: Shape?
    /// The whole value, when it is known at compile time.
    public var constant: Tensor?
    /// Row-major per-element knowledge of an integer tensor (known, symbolic or unknown); nil when nothing
    /// is known element-wise beyond `constant`.
    public var elements: [Dim]?

    /// Element-wise knowledge is only tracked for tensors up to this many elements (shape vectors, pads).
    public static let elementLimit = 64

    public init(dtype: DType? = nil, shape: Shape? = nil, constant: Tensor? = nil, elements: [Dim]? = nil) {
        self.dtype = dtype
        self.shape = shape
        self.constant = constant
        self.elements = elements
    }

    /// The facts of a known tensor.
    public init(constant: Tensor) {
        self.init(dtype: constant.dtype, shape: Shape(constant.shape), constant: constant)
    }

    public var rank: Int? { shape?.count }

    /// Per-element knowledge: from the constant when there is one, else the partial `elements`, else all
    /// `.unknown` when the value is a small integer tensor of concrete shape; nil otherwise.
    public var knownElements: [Dim]? {
        if let constant, constant.dtype.isInteger || constant.dtype == .bool {
            return constant.count <= ValueFacts.elementLimit ? constant.int64s.map { .known(Int($0)) } : nil
        }
        if let elements { return elements }
        guard let dtype, dtype.isInteger, let dims = shape?.concrete else { return nil }
        let n = dims.reduce(1, *)
        return n <= ValueFacts.elementLimit ? [Dim](repeating: .unknown, count: n) : nil
    }

    /// The value as integers when every element is known.
    public var knownInts: [Int]? {
        if let constant { return constant.ints }
        guard let elements else { return nil }
        return elements.concrete
    }

    public var description: String {
        var s = "\(dtype.map(\.rawValue) ?? "?")\(shape?.text ?? "[?]")"
        if let constant { s += " = \(constant)" } else if let elements { s += " ≈ \(elements.text)" }
        return s
    }
}

extension Dim {
    /// `self + k`: exact for known sizes, keeps a symbol when `k == 0`, otherwise unknown.
    func adding(_ k: Int) -> Dim {
        switch self {
        case .known(let v): .known(v + k)
        case .symbol: k == 0 ? self : .unknown
        case .unknown: .unknown
        }
    }

    /// Equal when both are known and equal, or both are the same symbol.
    func isSame(as other: Dim) -> Bool {
        switch (self, other) {
        case (.known(let a), .known(let b)): a == b
        case (.symbol(let a), .symbol(let b)): a == b
        default: false
        }
    }
}
