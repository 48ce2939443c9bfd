import IR

/// A network's weights under canonical names (timm's: `blocks.3.0.conv_dw.weight`, `bn1.running_var`) in ONNX
/// layouts (conv OIHW, depthwise `[C, 1, k, k]`, linear `[out, in]`), float32.
///
/// The meeting point of every scheme: a checkpoint is read into these names, the graph builder reads them, and the
/// exporter writes them out under any scheme.
public struct ModelWeights: Sendable {
    public var tensors: [String: Tensor]

    public init(_ tensors: [String: Tensor] = [:]) { self.tensors = tensors }

    public subscript(name: String) -> Tensor? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }

    /// Reads a checkpoint that `detection` describes: every tensor of the scheme's layout, converted to float32
    /// and permuted into ONNX layout. Call after `ArchitectureDetector.detect`, which has checked names and shapes.
    public init(_ checkpoint: Checkpoint, detection: DetectedModel) throws {
        var out = [String: Tensor]()
        for t in detection.scheme.layout(of: detection.structure) where !t.isCounter {
            guard let tensor = checkpoint[t.name] else {
                throw CheckpointError.mismatch(
                    architecture: detection.architecture.name, missing: [t.name], unexpected: [], wrongShape: [])
            }
            guard tensor.dtype.isFloatingPoint else {
                throw CheckpointError.invalidTensor(name: t.name, problem: "\(tensor.dtype) weights")
            }
            let float = tensor.converted(to: .float32)
            out[t.canonicalName] = float.permuted(inverse(t.permutation))
        }
        self.tensors = out
    }

    /// The scheme's tensors for `structure`, named and laid out as the framework stores them, in its order.
    /// `num_batches_tracked` counters are written as int64 zeros.
    public func schemeTensors(_ scheme: NamingScheme, structure: NetworkStructure) throws -> [(String, Tensor)] {
        var out = [(String, Tensor)]()
        for t in scheme.layout(of: structure) {
            if t.isCounter {
                out.append((t.name, Tensor(shape: [], int64s: [0])))
                continue
            }
            guard let tensor = tensors[t.canonicalName] else {
                throw CheckpointError.cannotInfer("no weights for '\(t.canonicalName)'")
            }
            let laid = tensor.permuted(t.permutation)
            guard laid.shape == t.shape else {
                throw CheckpointError.invalidTensor(
                    name: t.canonicalName,
                    problem: "shape \(tensor.shape) does not fit \(scheme) '\(t.name)' \(t.shape)")
            }
            out.append((t.name, laid))
        }
        return out
    }
}

func inverse(_ perm: [Int]) -> [Int] {
    var inv = [Int](repeating: 0, count: perm.count)
    for (k, p) in perm.enumerated() { inv[p] = k }
    return inv
}

extension Tensor {
    /// The tensor with its axes reordered: `result.shape[k] == shape[perm[k]]` (numpy `transpose(perm)`).
    /// Works on raw element bytes, so any dtype is moved exactly.
    public func permuted(_ perm: [Int]) -> Tensor {
        precondition(perm.count == rank && Set(perm) == Set(0..<rank), "bad permutation \(perm) for rank \(rank)")
        if perm == Array(0..<rank) { return self }
        let newShape = perm.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for k in stride(from: rank - 2, through: 0, by: -1) { inStrides[k] = inStrides[k + 1] * shape[k + 1] }
        // Strides of the source, visited in output axis order.
        let strides = perm.map { inStrides[$0] }
        let size = dtype.byteSize
        let n = count
        var out = [UInt8](repeating: 0, count: bytes.count)
        var index = [Int](repeating: 0, count: rank)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var offset = 0
                for o in 0..<n {
                    if size == 4 {
                        dst.storeBytes(
                            of: src.loadUnaligned(fromByteOffset: offset * 4, as: UInt32.self),
                            toByteOffset: o * 4, as: UInt32.self)
                    } else {
                        for b in 0..<size { dst[o * size + b] = src[offset * size + b] }
                    }
                    // Odometer increment over the output index.
                    var k = rank - 1
                    while k >= 0 {
                        index[k] += 1
                        offset += strides[k]
                        if index[k] < newShape[k] { break }
                        offset -= strides[k] * newShape[k]
                        index[k] = 0
                        k -= 1
                    }
                }
            }
        }
        return Tensor(dtype: dtype, shape: newShape, bytes: out)
    }
}
