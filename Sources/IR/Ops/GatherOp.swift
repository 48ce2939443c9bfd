/// `Gather`: picks entries of `data` along `axis` (default 0) by `indices`; the output shape is
/// `data[..<axis] + indices.shape + data[axis+1...]`. Negative indices count from the end; an index out of
/// `[-d, d)` is an error.
package enum GatherOp: OperatorDefinition {
    static let opType = "Gather"
    static let isEvaluable = true

    static func infer(_ c: InferenceContext) throws -> [ValueFacts] {
        let data = try c.required(0, "data")
        let indices = try c.required(1, "indices")
        if let t = indices.dtype, t != .int64, t != .int32 { throw c.fail("indices must be int32 or int64, got \(t)") }
        guard let ds = data.shape, let ishape = indices.shape else { return [facts(data.dtype, nil)] }
        guard !ds.isEmpty else { throw c.fail("cannot gather from a scalar") }
        let axis = try normalizedAxis(c.node.int("axis") ?? 0, rank: ds.count, node: c.node)
        var out = facts(data.dtype, Array(ds[..<axis]) + ishape + Array(ds[(axis + 1)...]))
        if let idx = indices.knownInts, let n = ds[axis].value {
            let normalized = try normalize(idx, size: n, node: c.node)
            if let elements = data.knownElements, let dims = ds.concrete, let ishape = ishape.concrete {
                out.elements = plan(dataShape: dims, axis: axis, indices: normalized, indicesShape: ishape)
                    .apply([elements])
            }
        }
        return [out]
    }

    static func evaluate(_ c: EvaluationContext) throws -> [Tensor] {
        let data = try c.required(0, "data")
        let indices = try c.required(1, "indices")
        guard data.rank > 0 else { throw c.fail("cannot gather from a scalar") }
        let axis = try normalizedAxis(c.node.int("axis") ?? 0, rank: data.rank, node: c.node)
        let idx = try normalize(indices.ints, size: data.shape[axis], node: c.node)
        return [plan(dataShape: data.shape, axis: axis, indices: idx, indicesShape: indices.shape).apply([data])]
    }

    static func normalize(_ indices: [Int], size: Int, node: Node) throws -> [Int] {
        try indices.map { i in
            guard i >= -size, i < size else {
                throw IRError.invalidNode(
                    node: node.label, message: "index \(i) is out of range for a dimension of \(size)")
            }
            return i < 0 ? i + size : i
        }
    }

    static func plan(dataShape: [Int], axis: Int, indices: [Int], indicesShape: [Int]) -> GatherPlan {
        let strides = rowMajorStrides(dataShape)
        var iterShape = [Int]()
        var tables = [[Int]]()
        for d in 0..<dataShape.count {
            if d == axis {
                iterShape.append(indices.count)
                tables.append(indices.map { $0 * strides[d] })
            } else {
                iterShape.append(dataShape[d])
                tables.append((0..<dataShape[d]).map { $0 * strides[d] })
            }
        }
        let outShape = Array(dataShape[..<axis]) + indicesShape + Array(dataShape[(axis + 1)...])
        return GatherPlan(shape: outShape, sources: GatherPlan.sources(shape: iterShape, tables: tables))
    }
}
