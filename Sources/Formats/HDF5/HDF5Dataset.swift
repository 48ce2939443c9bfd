import IR

extension HDF5File {
    /// The dataset whose header is `header` as float32 (float16 and float64 are converted, either byte order):
    /// shape from its dataspace, elements from its contiguous or compact storage, which must hold them all.
    func floatTensor(_ header: HDF5ObjectHeader, path: String) throws(WeightFileError) -> Tensor {
        func bad(_ detail: String) -> WeightFileError { malformed("'\(path)': \(detail)") }
        guard let typeMessage = header.first(HDF5Message.datatype), let spaceMessage = header.first(HDF5Message.dataspace),
            let layoutMessage = header.first(HDF5Message.layout)
        else { throw bad("is not a dataset (no datatype, dataspace or layout message)") }
        guard !typeMessage.isShared else {
            throw .unsupported(file: name, detail: "'\(path)': a dataset with a committed (shared) datatype")
        }
        var t = try cursor("'\(path)': the datatype message", at: typeMessage.offset, count: typeMessage.count)
        let type = try HDF5Datatype(&t)
        guard case .float(let size, let bigEndian) = type else { throw bad("is not floating-point") }
        var s = try cursor("'\(path)': the dataspace message", at: spaceMessage.offset, count: spaceMessage.count)
        let space = try HDF5Dataspace(&s)
        // A null dataspace has no elements, not even a scalar's one (found by the keras fuzz target).
        guard !space.isNull else { throw bad("has a null dataspace (no elements)") }
        guard space.dims.count <= 8 else { throw bad("has rank \(space.dims.count)") }
        let shape = space.dims
        do {
            try MemoryBudget.check(shape: shape, elementSize: 4, for: "dataset '\(path)' \(shape) float32")
        } catch {
            throw .unsupported(file: name, detail: error.description)
        }
        var l = try cursor("'\(path)': the data layout message", at: layoutMessage.offset, count: layoutMessage.count)
        let layout = try HDF5Layout(&l, file: self)
        let needed = space.count * size  // fits: the budget check above bounded count × 4
        let data: UnsafeRawBufferPointer
        switch layout {
        case .contiguous(let offset, let count):
            guard count >= needed else { throw bad("declares shape \(shape) but stores \(count) bytes") }
            guard let offset else {
                guard needed == 0 else { throw bad("declares shape \(shape) but stores no data") }
                return Tensor(shape: shape, floats: [])
            }
            var c = try cursor("'\(path)': its data at byte \(offset)", at: offset, count: needed)
            data = try c.bytes(needed)
        case .compact(let offset, let count):
            guard count >= needed else { throw bad("declares shape \(shape) but stores \(count) bytes") }
            data = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + needed)])
        case .chunked, .virtual:
            throw .unsupported(
                file: name,
                detail: "'\(path)': a chunked dataset is not supported; only contiguous and compact datasets")
        }
        return Tensor(shape: shape, floats: Self.floats(data, count: space.count, size: size, bigEndian: bigEndian))
    }

    /// IEEE half, single or double elements as float32.
    static func floats(_ data: UnsafeRawBufferPointer, count: Int, size: Int, bigEndian: Bool) -> [Float] {
        if size == 4, bigEndian == (1.bigEndian == 1) {
            // The common case (float32 in the host's order): one copy.
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: data[0..<(count * 4)]))
                initialized = count
            }
        }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                var bits: UInt64 = 0
                for k in 0..<size {
                    let byte = UInt64(data[i * size + (bigEndian ? size - 1 - k : k)])
                    bits |= byte << (8 * UInt64(k))
                }
                switch size {
                case 2: out[i] = HalfBits.float(fromHalf: UInt16(truncatingIfNeeded: bits))
                case 4: out[i] = Float(bitPattern: UInt32(truncatingIfNeeded: bits))
                default: out[i] = Float(Double(bitPattern: bits))
                }
            }
            initialized = count
        }
    }
}
