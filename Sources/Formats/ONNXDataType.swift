import IR

/// ONNX `TensorProto.DataType` codes and their mapping onto `DType`, shared by the reader and the writer.
///
/// Codes are the wire values of `onnx.proto`; names are the enum's, so that an error about an unsupported type
/// reads the way ONNX tools print it (`UINT16`, `FLOAT8E4M3FN`, …).
enum ONNXDataType {
    /// The ONNX code of each supported dtype (the table lives with `DType`).
    static func code(of dtype: DType) -> Int32 { Int32(dtype.onnxCode) }

    /// The dtype of an ONNX code, or nil when effnet does not carry that element type.
    static func dtype(of code: Int32) -> DType? { DType(onnxCode: Int(code)) }

    /// The `onnx.proto` name of a code (`"UINT16"`), or `"code N"` for values the proto does not define.
    static func name(of code: Int32) -> String {
        let names = [
            "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16",
            "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
            "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2",
            "FLOAT6E2M3", "FLOAT6E3M2",
        ]
        return code >= 0 && Int(code) < names.count ? names[Int(code)] : "code \(code)"
    }

    /// The minimum IR version that an opset of `ai.onnx` needs (onnx `helper.VERSION_TABLE`: opset 17 → IR 8,
    /// 18 → 8, 19 → 9, 21 → 10, 23 → 11, 24 → 12, 25 → 13, 28 → 14). Opsets beyond the table get the newest IR
    /// version the committed `onnx.proto` knows.
    static func irVersion(forOpset opset: Int) -> Int {
        switch opset {
        case ..<9: 3
        case 9: 4
        case 10: 5
        case 11: 6
        case 12...14: 7
        case 15...18: 8
        case 19...20: 9
        case 21...22: 10
        case 23: 11
        case 24: 12
        case 25...27: 13
        default: 14
        }
    }
}
