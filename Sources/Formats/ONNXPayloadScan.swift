/// Finds the main graph's initializer payloads in a serialized `ModelProto` and re-encodes the message without
/// them, so that protobuf-c never copies the weights.
///
/// `onnx__model_proto__unpack` copies every `bytes` field into its own allocation. For a model whose weights are
/// inline `raw_data` (what `torch.onnx.export` writes below 2 GiB) that is a second copy of every weight next to
/// the file's pages, and the reader's `Tensor`s are a third: 3 × 85 MB at once for EfficientNetV2-S. This scan
/// walks the wire format down the one path that holds the weights — ModelProto field 7 (`graph`) → GraphProto
/// field 5 (`initializer`) → TensorProto field 9 (`raw_data`) — records where each payload lies, and builds a
/// copy of the message with those `raw_data` fields left out (the enclosing length prefixes re-encoded; every
/// other byte copied verbatim). protobuf-c unpacks that small copy; the decoder copies each payload straight from
/// the file into its tensor.
///
/// The scan only takes the shape real exports have. Anything else — malformed or truncated bytes, a `graph` field
/// that occurs twice (protobuf would merge the two), a `raw_data` that occurs twice (the last one would win),
/// unexpected wire types — makes it return nil, and the reader unpacks the original bytes as before, so errors
/// stay exactly protobuf-c's. Removing an opaque `bytes` field cannot change how protobuf-c judges the others.
struct ONNXPayloadScan {
    /// A byte range of the original message.
    struct Payload: Equatable {
        var offset: Int
        var count: Int
    }

    /// The `ModelProto` without the payloads' `raw_data` fields.
    let stripped: [UInt8]
    /// Per initializer of the main graph, in file order (the order of `GraphProto.initializer` after unpacking):
    /// where its `raw_data` was, or nil when it had none (typed fields, external data, empty) and was kept as is.
    let payloads: [Payload?]

    /// Scans `bytes`; nil when there is nothing to strip or the structure is not the plain one described above.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> ONNXPayloadScan? {
        guard let modelFields = ONNXWire.fields(bytes, in: 0..<bytes.count) else { return nil }
        let graphs = modelFields.filter { $0.number == 7 }
        guard graphs.count == 1, let graph = graphs.first, graph.wireType == 2,
            let graphFields = ONNXWire.fields(bytes, in: graph.value)
        else { return nil }

        var payloads = [Payload?]()
        var graphBody = [UInt8]()
        graphBody.reserveCapacity(graph.value.count / 64)
        for field in graphFields {
            guard field.number == 5 else {
                graphBody.append(contentsOf: bytes[field.whole])
                continue
            }
            guard field.wireType == 2, let tensorFields = ONNXWire.fields(bytes, in: field.value) else { return nil }
            let raw = tensorFields.filter { $0.number == 9 }
            guard raw.count <= 1, raw.allSatisfy({ $0.wireType == 2 }) else { return nil }
            guard let payload = raw.first, !payload.value.isEmpty else {
                payloads.append(nil)
                graphBody.append(contentsOf: bytes[field.whole])
                continue
            }
            payloads.append(Payload(offset: payload.value.lowerBound, count: payload.value.count))
            var tensor = [UInt8]()
            for inner in tensorFields where inner.number != 9 { tensor.append(contentsOf: bytes[inner.whole]) }
            ONNXWire.appendLengthDelimited(field: 5, tensor, to: &graphBody)
        }
        guard payloads.contains(where: { $0 != nil }) else { return nil }

        var stripped = [UInt8]()
        stripped.reserveCapacity(bytes.count - graph.value.count + graphBody.count + 16)
        stripped.append(contentsOf: bytes[0..<graph.whole.lowerBound])
        ONNXWire.appendLengthDelimited(field: 7, graphBody, to: &stripped)
        stripped.append(contentsOf: bytes[graph.whole.upperBound...])
        return ONNXPayloadScan(stripped: stripped, payloads: payloads)
    }
}

/// Reading and writing the protobuf wire format, for the scans that run before protobuf-c sees a file.
enum ONNXWire {
    /// One field of a serialized message.
    struct Field {
        var number: UInt64
        var wireType: UInt64
        /// The whole field: key, length prefix (if any) and value.
        var whole: Range<Int>
        /// The value; for length-delimited fields the bytes after the length prefix.
        var value: Range<Int>
    }

    /// Longest key or length prefix protobuf-c accepts (it refuses longer ones as a bad header).
    static let maximumPrefix = 5

    /// The fields of the message held in `bytes[range]`, or nil when they do not parse to exactly its end, or use
    /// field number 0, a key or length prefix longer than protobuf-c reads, or a wire type other than varint,
    /// 64-bit, length-delimited and 32-bit (groups included: onnx.proto has none). Refusing whatever protobuf-c
    /// might refuse keeps the stripped copy from parsing where the original would not.
    static func fields(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) -> [Field]? {
        var fields = [Field]()
        var position = range.lowerBound
        let end = range.upperBound
        while position < end {
            let start = position
            guard let key = varint(bytes, &position, end: end), position - start <= maximumPrefix, key >> 3 != 0
            else { return nil }
            let valueStart: Int
            switch key & 7 {
            case 0:
                valueStart = position
                guard varint(bytes, &position, end: end) != nil else { return nil }
            case 1, 5:
                valueStart = position
                let size = key & 7 == 1 ? 8 : 4
                guard size <= end - position else { return nil }
                position += size
            case 2:
                let lengthStart = position
                guard let length = varint(bytes, &position, end: end), position - lengthStart <= maximumPrefix,
                    length <= UInt64(end - position)
                else { return nil }
                valueStart = position
                position += Int(length)
            default:
                return nil
            }
            fields.append(
                Field(number: key >> 3, wireType: key & 7, whole: start..<position, value: valueStart..<position))
        }
        return fields
    }

    /// Decodes a base-128 varint at `position`, advancing it; nil when it runs past `end` or over 10 bytes.
    static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int, end: Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end, shift < 70 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Appends field `number` as a length-delimited field holding `value`.
    static func appendLengthDelimited(field number: UInt64, _ value: [UInt8], to out: inout [UInt8]) {
        appendVarint(number << 3 | 2, to: &out)
        appendVarint(UInt64(value.count), to: &out)
        out.append(contentsOf: value)
    }
}

/// Where the decoder copies scanned payloads from.
enum ONNXPayloadSource {
    /// The model file, read with `pread`: bytes go from the page cache straight into the tensor, and the file's
    /// pages never count towards the process's resident memory as touched pages of a mapping would.
    case file(InputFile)
    /// The bytes the scan ran on (valid while `ONNXReader.parse` runs).
    case memory(UnsafeRawBufferPointer)
}

/// The payloads `ONNXPayloadScan` took out of the main graph's initializers, and where to read them.
struct ONNXPayloads {
    /// One initializer's payload.
    struct Entry {
        let range: ONNXPayloadScan.Payload
        let source: ONNXPayloadSource

        func read() throws(InputFile.OpenFailure) -> [UInt8] {
            switch source {
            case .file(let file): return try file.read(offset: range.offset, count: range.count)
            case .memory(let bytes): return Array(bytes[range.offset..<(range.offset + range.count)])
            }
        }
    }

    let ranges: [ONNXPayloadScan.Payload?]
    let source: ONNXPayloadSource

    /// The payload of the `index`-th initializer, nil when the scan left it in the message.
    func entry(_ index: Int) -> Entry? {
        guard index < ranges.count, let range = ranges[index] else { return nil }
        return Entry(range: range, source: source)
    }
}
