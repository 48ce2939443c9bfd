import Foundation
import IR
import Testing

@testable import Formats

/// The Python named by `EFFNET_PYTHON`, when it runs and imports numpy.
enum NumpyPython {
    static let path: String? = {
        guard let python = ProcessInfo.processInfo.environment["EFFNET_PYTHON"], !python.isEmpty else { return nil }
        return (try? run(python, ["-c", "import numpy"]).status) == 0 ? python : nil
    }()

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Archives written here are read by numpy itself: `tools/check_npz.py` runs `zipfile.testzip()` (every CRC)
/// and `np.load`, and compares names (in order), dtypes, shapes and element bytes with what was written.
@Suite(.enabled(if: NumpyPython.path != nil, "set EFFNET_PYTHON to a Python with numpy to cross-check with np.load"))
struct NPZPythonTests {
    @Test(arguments: [false, true], [UInt64(0), ZipWriter<ZipFileSink>.defaultZip64Threshold])
    func numpyLoadsWhatWasWritten(compressed: Bool, zip64Threshold: UInt64) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var arrays = sampleArrays()
        arrays.append(NamedTensor(name: "bf16", tensor: Tensor(dtype: .bfloat16, shape: [3], values: [1, -0.5, 384])))
        let archive = dir.appendingPathComponent("out.npz").path
        try NPZ.write(arrays, to: archive, compressed: compressed, zip64Threshold: zip64Threshold)

        let members: [[String: Any]] = arrays.map { a in
            let t = a.tensor.dtype == .bfloat16 ? a.tensor.converted(to: .float32) : a.tensor
            return ["name": a.name, "dtype": t.dtype.rawValue, "shape": t.shape, "hex": NPFixtures.hex(t.bytes)]
        }
        let expected = dir.appendingPathComponent("expected.json")
        try JSONSerialization.data(withJSONObject: ["members": members]).write(to: expected)

        let script = NPFixtures.root.appendingPathComponent("tools/check_npz.py").path
        let (status, output) = try NumpyPython.run(NumpyPython.path!, [script, archive, expected.path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok, \(arrays.count) arrays"), "\(output)")
    }
}
