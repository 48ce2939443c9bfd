import CProtobufC
import IR
import ONNXProto

#if !_endian(little)
    #error("ONNX raw_data is little-endian and is copied as is; a big-endian host would need byte swapping")
#endif

/// `TensorProto` → `Tensor`, from `raw_data`, the typed fields, or external data.
///
/// The element count implied by `dims` is checked (no negative dims, no overflow) and every data source must
/// hold exactly that many bytes or values before anything is copied, so a corrupt file cannot make the reader
/// allocate huge buffers or build an inconsistent tensor. Typed fields follow `onnx.proto`: `float_data` for
/// float32, `double_data` for float64, `int64_data` for int64, and `int32_data` for int32 and everything
/// narrower: int8/int16/uint8/bool one value each, float16/bfloat16 as their 16-bit patterns.
extension ONNXDecoder {
    /// - Parameter payload: where the tensor's `raw_data` is when the scan took it out of `proto`.
    func tensor(_ proto: Onnx__TensorProto, name: String, payload: ONNXPayloads.Entry? = nil) throws -> Tensor {
        func fail(_ problem: String) -> ONNXReadError { .tensor(file: file, tensor: name, problem: problem) }

        let code = proto.has_data_type != 0 ? proto.data_type : 0
        guard let dtype = ONNXDataType.dtype(of: code) else {
            throw fail(
                "element type \(ONNXDataType.name(of: code)) is not supported "
                    + "(effnet reads float32, float16, bfloat16, float64, int8, int16, int32, int64, uint8, bool)")
        }
        if proto.segment != nil { throw fail("segmented tensors are not supported") }

        let dims = Array(ONNXC.buffer(proto.dims, proto.n_dims))
        var count = 1
        for d in dims {
            guard d >= 0 else { throw fail("negative dimension in dims \(dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow else { throw fail("dims \(dims) overflow the element count") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw fail("dims \(dims) overflow the byte count") }
        let shape = dims.map { Int($0) }
        let typeText = "\(dtype)\(shape)"

        if proto.has_data_location != 0, proto.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
            let bytes = try external.read(proto, tensor: name, byteCount: byteCount, typeText: typeText)
            return Tensor(dtype: dtype, shape: shape, bytes: bytes)
        }
        if let payload {
            guard payload.range.count == byteCount else {
                throw fail("\(typeText) needs \(byteCount) bytes, raw_data holds \(payload.range.count)")
            }
            do {
                return Tensor(dtype: dtype, shape: shape, bytes: try payload.read())
            } catch {
                throw fail("cannot read raw_data: \(error.reason)")
            }
        }
        if proto.has_raw_data != 0 {
            guard proto.raw_data.len == byteCount else {
                throw fail("\(typeText) needs \(byteCount) bytes, raw_data holds \(proto.raw_data.len)")
            }
            let bytes =
                byteCount == 0 ? [] : Array(UnsafeRawBufferPointer(start: proto.raw_data.data, count: byteCount))
            return Tensor(dtype: dtype, shape: shape, bytes: bytes)
        }

        /// The typed field's values, after checking there are exactly `count` of them.
        func values<T>(_ pointer: UnsafeMutablePointer<T>?, _ n: Int, _ field: String) throws -> UnsafeBufferPointer<T>
        {
            guard n == count else { throw fail("\(typeText) needs \(count) values in \(field), found \(n)") }
            return ONNXC.buffer(pointer, n)
        }
        let int32s = { try values(proto.int32_data, proto.n_int32_data, "int32_data") }
        let bytes: [UInt8]
        switch dtype {
        case .float32:
            bytes = Array(UnsafeRawBufferPointer(try values(proto.float_data, proto.n_float_data, "float_data")))
        case .float64:
            bytes = Array(UnsafeRawBufferPointer(try values(proto.double_data, proto.n_double_data, "double_data")))
        case .int64:
            bytes = Array(UnsafeRawBufferPointer(try values(proto.int64_data, proto.n_int64_data, "int64_data")))
        case .int32: bytes = Array(UnsafeRawBufferPointer(try int32s()))
        case .int16: bytes = Self.littleEndianBytes(try int32s().map { Int16(truncatingIfNeeded: $0) })
        case .float16, .bfloat16: bytes = Self.littleEndianBytes(try int32s().map { UInt16(truncatingIfNeeded: $0) })
        case .int8: bytes = try int32s().map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0)) }
        case .uint8: bytes = try int32s().map { UInt8(truncatingIfNeeded: $0) }
        case .bool: bytes = try int32s().map { $0 != 0 ? 1 : 0 }
        }
        return Tensor(dtype: dtype, shape: shape, bytes: bytes)
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }
}
