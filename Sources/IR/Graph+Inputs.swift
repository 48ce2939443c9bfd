extension Graph {
    /// Fixes every non-batch dimension of the graph's inputs to the fed tensors' sizes, so that shape facts (SAME
    /// padding, pooling windows) become static for the optimizer; a symbolic batch dimension keeps its symbol.
    public mutating func bindSpatialDims(_ feeds: [String: Tensor]) {
        for i in inputs.indices {
            guard let t = feeds[inputs[i].name], let dims = inputs[i].shape, dims.count == t.rank else { continue }
            inputs[i].shape = dims.enumerated().map { k, d in k == 0 && d.value == nil ? d : .known(t.shape[k]) }
        }
    }
}
