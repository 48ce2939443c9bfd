import IR
import Testing

@testable import Runtime

/// The native session against onnxruntime on every case of `fixtures/ops`, as the reference interpreter is
/// (`ReferenceOpTests`). A case either runs and matches, or is refused before running with a message that says
/// "not supported" — and then it must be on `refused`, so that a new refusal is a decision, not an accident.
///
/// Tolerance: the fixture's own for exact (integer, data-movement) results; float results 1e-4 relative + 1e-4
/// absolute, since the native kernels sum in float32 in another order than onnxruntime (Winograd transforms
/// included: ~1e-5 relative on these sizes).
@Suite struct NativeOpFixtureTests {
    /// Cases the native runtime refuses, and why.
    static let refused: [String: String] = [
        // Integer and float64 arithmetic on values computed at run time: the kernels compute float32 only.
        "Add/int64": "int64 input", "Add/int32_broadcast": "int32 input",
        "Sub/int64": "int64 input", "Sub/int32_broadcast": "int32 input",
        "Mul/int64": "int64 input", "Mul/int32_broadcast": "int32 input",
        "Div/int64": "int64 input", "Div/int32_broadcast": "int32 input",
        "Clip/int64": "int64 input", "Concat/ints_axis0": "int64 input", "Cast/int64_to_float": "int64 input",
        "Cast/int64_to_int32": "int64 input", "Gather/scalar_index": "int64 input",
        "Pad/int64_constant": "int64 input", "Slice/reverse_2d_int64": "int64 input",
        "Transpose/int64_2d": "int64 input", "Unsqueeze/scalar_opset13": "int64 input",
        "Cast/float_to_int64": "int64 result at run time", "Cast/float_to_float16": "float16 result at run time",
        "Cast/float_to_bool": "bool result at run time", "Cast/float_to_double": "float64 result at run time",
        // Shape arithmetic ops on run-time values.
        "Gather/axis1_2d_negative": "Gather of run-time data", "Gather/axis_neg1_int32_indices": "Gather of run-time data",
        "Ceil/basic": "Ceil of run-time data", "Floor/basic": "Floor of run-time data",
        "Sqrt/basic": "Sqrt of run-time data", "Concat/floats_axis_neg1": "Concat of run-time data",
        "Concat/axis1": "Concat of run-time data", "Slice/basic": "Slice of run-time data",
        "Slice/negative_clamped": "Slice of run-time data", "Slice/reverse_int64_min": "Slice of run-time data",
        "Slice/reverse_step2": "Slice of run-time data", "Slice/steps2": "Slice of run-time data",
        "Slice/no_axes": "Slice of run-time data", "Slice/empty": "Slice of run-time data",
        "Slice/opset9_attributes": "Slice of run-time data",
        // Attribute values outside what the native kernels do.
        "Conv/conv1d": "1-D convolution", "Conv/groups2": "grouped convolution",
        "Conv/depthwise_3x3_multiplier2": "grouped convolution (depth multiplier 2)", "Gemm/transA_alpha_beta": "transA = 1", "Gemm/c_column": "transA = 1",
        "Dropout/with_mask": "mask output", "Softmax/axis1": "axis not last (opset 13)",
        "ReduceMean/axis_neg1_nokeep": "not the spatial mean", "ReduceMean/axis1": "not the spatial mean",
        "ReduceMean/all_axes": "not the spatial mean", "ReduceMean/opset18_no_axes": "not the spatial mean",
        "ReduceMean/opset18_noop": "not the spatial mean", "MatMul/batched": "rank-3 B",
        "MatMul/broadcast_batch": "rank-3 B", "MatMul/vector_matrix": "rank-3 B", "MatMul/dot": "rank-1 B",
        "MatMul/matrix_vector": "rank-1 B", "Pad/constant_value": "pads the channel axis",
        "Pad/negative_crop": "negative pads", "Pad/reflect": "reflect mode", "Pad/edge": "edge mode",
        "Pad/opset19_wrap": "wrap mode",
        "Resize/linear_channels_resized": "resizes the channel axis",
    ]

    @Test(arguments: OpFixtures.files) func matchesOnnxruntimeOrRefuses(file: String) throws {
        for c in try OpFixtures.load(file) {
            let key = "\(c.file)/\(c.name)"
            let outputs: [String: Tensor]
            do {
                let session = try InferenceSession(graph: c.graph, opset: c.opset, threads: 2)
                outputs = try session.run(c.feeds)
            } catch {
                #expect(Self.refused[key] != nil, "\(key) is refused but not on the list: \(error)")
                #expect("\(error)".contains("not supported"), "\(key): the refusal does not say so: \(error)")
                continue
            }
            #expect(Self.refused[key] == nil, "\(key) is on the refusal list but runs")
            for (name, expected) in c.expected {
                guard let actual = outputs[name] else {
                    Issue.record("\(key): no output \(name)")
                    continue
                }
                let exact = c.rtol == 0 && c.atol == 0 && !expected.dtype.isFloatingPoint
                let problem = OpFixtures.mismatch(
                    actual, expected, rtol: exact ? 0 : max(c.rtol, 1e-4), atol: exact ? 0 : max(c.atol, 1e-4))
                #expect(problem == nil, "\(key) output \(name): \(problem ?? "")")
            }
        }
    }

    /// Every listed refusal names a case that exists (no stale entries hiding a new case's refusal).
    @Test func refusalListNamesExistingCases() throws {
        var keys = Set<String>()
        for file in OpFixtures.files { for c in try OpFixtures.load(file) { keys.insert("\(c.file)/\(c.name)") } }
        for key in Self.refused.keys.sorted() { #expect(keys.contains(key), "no fixture case \(key)") }
    }
}
